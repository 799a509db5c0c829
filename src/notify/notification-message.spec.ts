import { composeMessage, createBody, editBody, SEVERITY_COLOURS } from './notification-message';

describe('composeMessage', () => {
  it('sends the message shorthand as plain text', () => {
    expect(composeMessage({ message: 'Backup finished' })).toEqual({ content: 'Backup finished' });
  });

  it('turns the shorthand into a coloured embed when a severity is given', () => {
    expect(composeMessage({ message: 'Disk full', severity: 'error' })).toEqual({
      embeds: [{ description: 'Disk full', color: SEVERITY_COLOURS.error }],
    });
  });

  it('repeats the mentions of a shorthand that became an embed as the text, since Discord pings none inside an embed', () => {
    expect(
      composeMessage({ message: 'Deploy failed <@123456789012345678>, cc <@&223456789012345678> @here <@123456789012345678>', severity: 'error' }),
    ).toEqual({
      content: '<@123456789012345678> <@&223456789012345678> @here',
      embeds: [
        { description: 'Deploy failed <@123456789012345678>, cc <@&223456789012345678> @here <@123456789012345678>', color: SEVERITY_COLOURS.error },
      ],
    });
    expect(composeMessage({ message: 'no one to ping', username: 'cron' })).toEqual({
      embeds: [{ description: 'no one to ping', author: { name: 'cron' } }],
    });
  });

  it('colours only the embeds that have no colour of their own', () => {
    const composed = composeMessage({ content: 'deploy', embeds: [{ title: 'a' }, { title: 'b', color: 0x123456 }], severity: 'success' });
    expect(composed).toEqual({
      content: 'deploy',
      embeds: [
        { title: 'a', color: SEVERITY_COLOURS.success },
        { title: 'b', color: 0x123456 },
      ],
    });
  });

  it('shows username and avatarUrl as the author line of the first embed', () => {
    expect(composeMessage({ message: 'hi', username: 'cron', avatarUrl: 'https://example.com/a.png' })).toEqual({
      embeds: [{ description: 'hi', author: { name: 'cron', icon_url: 'https://example.com/a.png' } }],
    });
  });

  it('uses the notification id as an enforced nonce and replaces everything on edit', () => {
    expect(createBody({ content: 'x' }, '665f1c2e8b3e4a0012345678')).toEqual({
      content: 'x',
      nonce: '665f1c2e8b3e4a0012345678',
      enforce_nonce: true,
    });
    expect(editBody({ embeds: [{ title: 't' }] })).toEqual({ content: '', embeds: [{ title: 't' }] });
    expect(editBody({ content: 'only text' })).toEqual({ content: 'only text', embeds: [] });
  });
});
