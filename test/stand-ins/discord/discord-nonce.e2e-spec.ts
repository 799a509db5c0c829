import { startDiscordStandIn, type DiscordStandIn } from './index';

jest.setTimeout(60_000);

/** The stand-in's Create Message, as Discord documents enforce_nonce and allowed_mentions (plain REST, no gateway). */
describe('Discord stand-in: nonce and allowed_mentions on Create Message', () => {
  let standIn: DiscordStandIn;
  let channelId: string;

  beforeAll(async () => {
    standIn = await startDiscordStandIn();
    channelId = standIn.channels.announcements.id;
  });

  afterAll(async () => {
    await standIn?.stop();
  });

  const create = async (body: object) => {
    const response = await fetch(`${standIn.apiUrl}/v10/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bot ${standIn.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const contents = () => standIn.messages(channelId).map((stored) => stored.message.content);

  it('answers a create repeated with the same nonce and enforce_nonce with the first message, creating none', async () => {
    const first = await create({ content: 'nonce once', nonce: 'job-1', enforce_nonce: true });
    const again = await create({ content: 'nonce once', nonce: 'job-1', enforce_nonce: true });
    expect(first.status).toBe(200);
    expect(again).toEqual({ status: 200, body: expect.objectContaining({ id: first.body.id, nonce: 'job-1' }) });
    expect(contents().filter((content) => content === 'nonce once')).toHaveLength(1);

    // Without enforce_nonce the nonce is only echoed: Discord creates a second message.
    await create({ content: 'nonce twice', nonce: 'job-2' });
    await create({ content: 'nonce twice', nonce: 'job-2' });
    expect(contents().filter((content) => content === 'nonce twice')).toHaveLength(2);
  });

  it('refuses a nonce longer than 25 characters', async () => {
    const refused = await create({ content: 'x', nonce: 'n'.repeat(26), enforce_nonce: true });
    expect(refused).toMatchObject({ status: 400, body: { code: 50035, errors: { nonce: expect.anything() } } });
  });

  it('pings only whom allowed_mentions allows, and refuses what Discord refuses', async () => {
    const alice = standIn.users.alice.id;
    const everyone = await create({ content: `@everyone <@${alice}>`, allowed_mentions: { parse: [] } });
    expect(everyone.body).toMatchObject({ mention_everyone: false, mentions: [] });
    const onlyAlice = await create({ content: `@everyone <@${alice}>`, allowed_mentions: { users: [alice] } });
    expect(onlyAlice.body).toMatchObject({ mention_everyone: false, mentions: [expect.objectContaining({ id: alice })] });
    const plain = await create({ content: `@everyone <@${alice}>` });
    expect(plain.body).toMatchObject({ mention_everyone: true, mentions: [expect.objectContaining({ id: alice })] });

    const exclusive = await create({ content: 'x', allowed_mentions: { parse: ['users'], users: [alice] } });
    expect(exclusive).toMatchObject({
      status: 400,
      body: {
        code: 50035,
        errors: { allowed_mentions: { _errors: [expect.objectContaining({ code: 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE' })] } },
      },
    });
    const unknownType = await create({ content: 'x', allowed_mentions: { parse: ['channels'] } });
    expect(unknownType).toMatchObject({ status: 400, body: { errors: { allowed_mentions: { parse: expect.anything() } } } });
  });
});
