// The golden set: between them these messages use every feature of the discord-message template.
import type { RenderDiscordConversationDto, RenderDiscordMessageDto } from '../../src/render/discord-message.dto';

export const USER_ID = '123456789012345678';
export const ROLE_ID = '223456789012345678';
export const CHANNEL_ID = '323456789012345678';
export const EMOJI_ID = '423456789012345678';
export const OTHER_EMOJI_ID = '523456789012345678';

export function goldenMessages(cdn: string): Record<string, RenderDiscordMessageDto> {
  const ada = { name: 'Ada Lovelace', avatarUrl: `${cdn}/avatars/ada.png`, color: '#e67e22' };
  const grace = { name: 'grace', avatarUrl: `${cdn}/avatars/grace.png` };
  const base = {
    timestamp: '2024-05-01T12:34:00.000Z',
    mentions: {
      users: [{ id: USER_ID, name: 'grace' }],
      roles: [{ id: ROLE_ID, name: 'Maintainers', color: '#2ecc71' }],
      channels: [{ id: CHANNEL_ID, name: 'releases' }],
    },
    emojis: [
      { id: EMOJI_ID, url: `${cdn}/emojis/${EMOJI_ID}.png` },
      { id: OTHER_EMOJI_ID, url: `${cdn}/emojis/${OTHER_EMOJI_ID}.png` },
    ],
  };
  return {
    'markdown-inline': {
      ...base,
      author: ada,
      content:
        '**bold** *italic* __underline__ ~~strike~~ ***bold italic*** __*underlined italic*__\n' +
        'a ||hidden spoiler|| then `inline code` and a [masked link](https://example.com/docs) and https://example.org/plain\n' +
        'escaped \\*not italic\\* and a [javascript: link](javascript:alert(1)) stays text',
    },
    'markdown-blocks': {
      ...base,
      author: ada,
      content:
        '# Heading one\n## Heading two\n### Heading three\n-# subtext under the headings\n' +
        '- first item\n- second item with **bold**\n  - nested item\n' +
        '1. ordered one\n2. ordered two\n' +
        '> a quoted line\n> and another\n' +
        'after the quote',
    },
    'code-blocks': {
      ...base,
      author: ada,
      content:
        'TypeScript:\n```ts\ninterface Build {\n  id: number; // the build number\n  status: "passed" | "failed";\n}\nconst answer = await fetch(`/builds/${id}`);\n```\n' +
        'Python:\n```py\ndef greet(name: str) -> str:\n    return f"hello {name}"  # comment\n```\n' +
        'No language:\n```\nplain <b>text</b> stays plain\n```',
    },
    // Discord colours `ansi` code blocks (its subset: bold, underline, 8 colours, 8 backgrounds) and never shows the
    // escape codes; a keycap after a word is one emoji; `:name:` shortcodes are drawn as the emoji (an
    // unknown one and a time stay text); `s` and `S` are timestamp styles (2025).
    'ansi-emoji-timestamps': {
      ...base,
      author: ada,
      content:
        '```ansi\n\u001b[0;31mred\u001b[0m \u001b[1;32mbold green\u001b[0m \u001b[4;34munderlined blue\u001b[0m ' +
        '\u001b[0;41;37mwhite on orange\u001b[0m \u001b[38;5;200mignored\u001b[0m plain\n```\n' +
        'Steps 1️⃣ 2️⃣ 3️⃣ #️⃣ 🔟 · <t:1714566840:s> · <t:1714566840:S>\n' +
        'CI :white_check_mark: :x: :tada: :thumbsup: :flag_us: but :not_an_emoji: and 12:30:45 stay text',
    },
    // A reply's preview is one line even when it holds inline code; its mentions are named from the message's.
    'reply-with-code': {
      ...base,
      author: ada,
      reply: {
        author: { name: 'grace' },
        content: `<@${USER_ID}> the failing line is \`const answer = await fetch(buildUrl, { method: 'POST' })\` in the second file, please look`,
      },
      content: 'On it.',
    },
    mentions: {
      ...base,
      author: ada,
      content:
        `Hey <@${USER_ID}>, <@&${ROLE_ID}> please look at <#${CHANNEL_ID}>. @everyone @here\n` +
        `Unknown: <@999999999999999999> <@&999999999999999998> <#999999999999999997>\n` +
        `Emoji 😀 🎉 👍🏽 and custom <:blob:${EMOJI_ID}> <:gem:${OTHER_EMOJI_ID}> · due <t:1714566840:F> (<t:1714566840:d>)`,
    },
    'jumbo-emoji': {
      ...base,
      author: ada,
      content: `😀 🎉 <:blob:${EMOJI_ID}> 🚀`,
    },
    'bot-edited-reply': {
      ...base,
      author: { name: 'Herald', avatarUrl: `${cdn}/avatars/grace.png`, color: '#5865f2', bot: true },
      editedTimestamp: '2024-05-01T12:40:00.000Z',
      reply: { author: ada, content: 'Could you post the **release notes** for the new version here, with every change listed please? 🙏' },
      content: 'Here they are — see the thread.',
    },
    'deleted-reply': {
      ...base,
      author: grace,
      reply: {},
      content: 'Replying to something that is gone.',
    },
    attachments: {
      ...base,
      author: ada,
      content: 'Screenshot and logs attached',
      attachments: [
        { url: `${cdn}/attachments/landscape.png`, filename: 'landscape.png', contentType: 'image/png', size: 204800, width: 1200, height: 675 },
        { url: `${cdn}/files/build-log.txt`, filename: 'build-log.txt', contentType: 'text/plain', size: 48213 },
        { url: `${cdn}/files/archive.zip`, filename: 'release-2024-05-01-final.zip', contentType: 'application/zip', size: 73400320 },
      ],
    },
    'image-mosaic-spoiler': {
      ...base,
      author: grace,
      attachments: [
        { url: `${cdn}/attachments/square.png`, filename: 'square.png', contentType: 'image/png', size: 3000, width: 300, height: 300 },
        {
          url: `${cdn}/attachments/landscape.png`,
          filename: 'SPOILER_landscape.png',
          contentType: 'image/png',
          size: 204800,
          width: 1200,
          height: 675,
        },
      ],
    },
    embed: {
      ...base,
      author: { name: 'Drone', avatarUrl: `${cdn}/avatars/grace.png`, bot: true },
      embeds: [
        {
          color: 0x2ecc71,
          author: { name: 'Ada Lovelace', icon_url: `${cdn}/avatars/ada.png` },
          title: 'herald #42 passed',
          url: 'https://drone.example.com/herald/42',
          description: 'Commit `abc1234` on **main**: *fix the renderer* — [diff](https://example.com/diff)\n> quoted in the description',
          fields: [
            { name: 'Branch', value: '`main`', inline: true },
            { name: 'Duration', value: '3m 12s', inline: true },
            { name: 'Stages', value: '- lint ✅\n- test ✅\n- deploy ✅', inline: false },
            { name: 'Runner', value: 'ci-1', inline: true },
            { name: 'Event', value: 'push', inline: true },
          ],
          thumbnail: { url: `${cdn}/embeds/thumb.png`, width: 160, height: 160 },
          image: { url: `${cdn}/embeds/banner.png`, width: 800, height: 300 },
          footer: { text: 'drone.example.com', icon_url: `${cdn}/avatars/grace.png` },
          timestamp: '2024-05-01T12:33:00.000Z',
        },
        {
          color: 0xe74c3c,
          title: 'Plain second embed',
          description: 'Three inline fields share a row:',
          fields: [
            { name: 'One', value: '1', inline: true },
            { name: 'Two', value: '2', inline: true },
            { name: 'Three', value: '3', inline: true },
          ],
        },
      ],
    },
    'reactions-stickers': {
      ...base,
      author: ada,
      content: 'Shipped!',
      stickers: [{ name: 'Wave', url: `${cdn}/stickers/wave.png` }, { name: 'Lottie sticker' }],
      reactions: [
        { emoji: { name: '🎉' }, count: 12, me: true },
        { emoji: { name: '👍' }, count: 3 },
        { emoji: { name: 'blob', id: EMOJI_ID, url: `${cdn}/emojis/${EMOJI_ID}.png` }, count: 1 },
      ],
    },
    'failed-pictures': {
      ...base,
      author: { name: 'Nobody', avatarUrl: `${cdn}/avatars/missing.png` },
      content: `Every picture here fails: <:gone:${OTHER_EMOJI_ID}>`,
      emojis: [{ id: OTHER_EMOJI_ID, url: `${cdn}/not-an-image.png` }],
      attachments: [
        { url: `${cdn}/hang.png`, filename: 'slow.png', contentType: 'image/png', size: 10, width: 400, height: 200 },
        { url: 'https://images.example.invalid/offlist.png', filename: 'offlist.png', contentType: 'image/png', size: 10 },
      ],
      embeds: [
        {
          title: 'Thumbnail redirected off the allowlist',
          thumbnail: { url: `${cdn}/redirect-away.png` },
          image: { url: `${cdn}/huge.png`, width: 600, height: 200 },
        },
      ],
    },
    injection: {
      ...base,
      author: { name: '<img src=x onerror="window.pwned=1">', color: '#e74c3c' },
      content:
        '<script>window.pwned = 1</script> <img src=x onerror="window.pwned=1">\n' +
        '[click me](javascript:window.pwned=1) <a href="javascript:alert(1)">link</a>\n' +
        '<style>body { background: red !important }</style> </div><div style="position:fixed;inset:0;background:red">',
      embeds: [
        {
          title: '<b>not bold</b>',
          description: '<iframe src="http://evil.example/"></iframe>',
          fields: [{ name: '<u>x</u>', value: '"><svg onload=alert(1)>' }],
        },
      ],
    },
  };
}

/** Extra people for the conversation goldens: default avatars come from their ids (no picture given). */
export const GRACE_ID = '123456789012345678';
export const LINUS_ID = '175928847299117063';

/** Messages whose goldens prove the features added for issue 20 (CJK, mosaics, media, scale, theme). */
export function goldenMediaMessages(cdn: string): Record<string, RenderDiscordMessageDto> {
  const ada = { name: 'Ada Lovelace', avatarUrl: `${cdn}/avatars/ada.png`, color: '#e67e22' };
  const picture = (name: string, width: number, height: number, filename = name) => ({
    url: `${cdn}/attachments/${name}`,
    filename,
    contentType: 'image/png',
    size: 1000,
    width,
    height,
  });
  const pictures = [
    picture('landscape.png', 1200, 675),
    picture('square.png', 300, 300),
    picture('portrait.png', 400, 600),
    picture('stripes.png', 640, 360),
  ];
  const mosaic = (count: number) => ({
    timestamp: '2024-05-01T12:34:00.000Z',
    author: ada,
    content: `${count} pictures`,
    attachments: Array.from({ length: count }, (_, index) => ({ ...pictures[index % pictures.length], filename: `picture-${index}.png` })),
  });
  return {
    cjk: {
      timestamp: '2024-05-01T12:34:00.000Z',
      author: { name: '李小龍', avatarUrl: `${cdn}/avatars/ada.png` },
      content:
        '中文：构建已通过，所有测试都是绿色的。\n日本語：ビルドは成功しました。ありがとう！\n한국어: 빌드가 성공했습니다. 감사합니다!\n`代码 コード 코드` and **粗体 太字 굵게**',
      reactions: [{ emoji: { name: '👍' }, count: 2 }],
    },
    'mosaic-2': mosaic(2),
    'mosaic-3': mosaic(3),
    'mosaic-4': mosaic(4),
    'mosaic-5': {
      ...mosaic(5),
      // A picture that fails takes its cell's shape, not a 16:9 card of its own.
      attachments: [
        ...mosaic(4).attachments,
        { url: `${cdn}/missing.png`, filename: 'missing.png', contentType: 'image/png', size: 10, width: 1600, height: 900 },
      ],
    },
    'mosaic-10': mosaic(10),
    // The SPOILER pill stays on one line in a narrow cell (it wrapped as "SPOILE" / "R" in a row of three).
    'mosaic-3-spoiler': {
      ...mosaic(3),
      attachments: mosaic(3).attachments.map((attachment, index) =>
        index === 2 ? { ...attachment, filename: 'SPOILER_picture-2.png' } : attachment,
      ),
    },
    'gif-embed': {
      timestamp: '2024-05-01T12:34:00.000Z',
      author: ada,
      content: 'https://tenor.com/view/party-gif-123',
      embeds: [
        {
          type: 'gifv',
          url: 'https://tenor.com/view/party-gif-123',
          provider: { name: 'Tenor', url: 'https://tenor.co' },
          thumbnail: { url: `${cdn}/embeds/tenor-still.png`, width: 498, height: 280 },
          video: { url: 'https://media.tenor.com/x/party.mp4', width: 498, height: 280 },
        },
      ],
    },
    'video-attachment': {
      timestamp: '2024-05-01T12:34:00.000Z',
      author: ada,
      content: 'The crash, recorded, and a video about the renderer',
      attachments: [
        {
          url: `${cdn}/attachments/crash.mp4`,
          filename: 'crash.mp4',
          contentType: 'video/mp4',
          size: 5_000_000,
          width: 640,
          height: 360,
          previewUrl: `${cdn}/attachments/clip-first-frame.png`,
        },
      ],
      embeds: [
        {
          type: 'video',
          url: 'https://www.youtube.com/watch?v=abc',
          title: 'How the renderer works',
          provider: { name: 'YouTube' },
          author: { name: 'Herald team' },
          thumbnail: { url: `${cdn}/attachments/stripes.png`, width: 1280, height: 720 },
          video: { url: 'https://www.youtube.com/embed/abc', width: 1280, height: 720 },
          color: 0xff0000,
        },
      ],
    },
    'gif-attachment': {
      timestamp: '2024-05-01T12:34:00.000Z',
      author: ada,
      attachments: [{ url: `${cdn}/attachments/square.png`, filename: 'dance.gif', contentType: 'image/gif', size: 40_000, width: 300, height: 300 }],
    },
    'scale-2': {
      timestamp: '2024-05-01T12:34:00.000Z',
      author: ada,
      scale: 2,
      width: 480,
      content: 'Sharp on a **high-DPI** screen: <:blob:423456789012345678> 🎉',
      emojis: [{ id: EMOJI_ID, url: `${cdn}/emojis/${EMOJI_ID}.png` }],
      reactions: [{ emoji: { name: '🎉' }, count: 2, me: true }],
    },
    'light-theme': {
      timestamp: '2024-05-01T12:34:00.000Z',
      theme: 'light',
      author: { name: 'Herald', bot: true, verified: true, color: '#5865f2', id: LINUS_ID },
      reply: { author: { name: 'grace', id: GRACE_ID }, hasAttachments: true, mentionsAuthor: true },
      content: `Light theme: **bold**, \`code\`, a mention <@${USER_ID}> and a [link](https://example.com)\n> quoted\n\`\`\`ts\nconst green: boolean = true; // highlighted\n\`\`\``,
      mentions: { users: [{ id: USER_ID, name: 'grace' }] },
      attachments: [{ url: `${cdn}/files/notes.pdf`, filename: 'release-notes.pdf', contentType: 'application/pdf', size: 120_000 }],
      embeds: [
        { color: 0x2ecc71, title: 'herald #42 passed', description: 'All checks green', fields: [{ name: 'Branch', value: '`main`', inline: true }] },
      ],
      reactions: [
        { emoji: { name: '🎉' }, count: 3, me: true },
        { emoji: { name: '👀' }, count: 1 },
      ],
    },
    'file-cards': {
      timestamp: '2024-05-01T12:34:00.000Z',
      author: { name: 'grace', id: GRACE_ID },
      reply: { author: { name: 'Herald', bot: true, id: LINUS_ID }, hasAttachments: true },
      content: 'Every kind of file',
      attachments: [
        ['report.pdf', 'application/pdf'],
        ['server.ts', 'text/plain'],
        ['backup.tar.gz', 'application/gzip'],
        ['figures.xlsx', 'application/vnd.ms-excel'],
        ['voice.ogg', 'audio/ogg'],
        ['clip.mkv', 'application/octet-stream'],
        ['diagram.svg', 'image/svg+xml'],
        ['data.bin', 'application/octet-stream'],
      ].map(([filename, contentType]) => ({ url: `${cdn}/files/${filename}`, filename, contentType, size: 2048 })),
    },
  };
}

/** Conversations: grouping, date separators, the "new messages" line, default avatars, calendar timestamps. */
export function goldenConversations(cdn: string): Record<string, RenderDiscordConversationDto> {
  const grace = { name: 'grace', id: GRACE_ID };
  const linus = { name: 'linus', id: LINUS_ID, color: '#3498db' };
  const ada = { name: 'Ada Lovelace', avatarUrl: `${cdn}/avatars/ada.png`, color: '#e67e22', id: '923456789012345678' };
  return {
    'conversation-4': {
      now: '2024-05-02T10:00:00.000Z',
      messages: [
        { author: grace, content: 'Is the nightly build green?', timestamp: '2024-04-30T18:02:00.000Z' },
        { author: grace, content: 'It was red before the weekend.', timestamp: '2024-05-01T09:15:00.000Z' },
        { author: grace, content: 'Anyone? 🙏', timestamp: '2024-05-01T09:18:00.000Z' },
        {
          author: linus,
          content: 'Green again, the flaky test is fixed.',
          timestamp: '2024-05-02T09:30:00.000Z',
          reply: { author: grace, content: 'Anyone? 🙏', mentionsAuthor: true },
        },
      ],
      newMessagesFrom: 3,
    },
    'conversation-10': {
      now: '2024-05-01T15:00:00.000Z',
      messages: Array.from({ length: 10 }, (_, index) => ({
        author: [grace, grace, ada, ada, ada, linus, grace, linus, linus, ada][index],
        content: index === 4 ? '```ts\nconst green = true;\n```' : `message ${index + 1}: ${'more words '.repeat(index % 4)}`,
        timestamp: new Date(Date.UTC(2024, 4, 1, 12, index * 3)).toISOString(),
      })),
    },
  };
}
