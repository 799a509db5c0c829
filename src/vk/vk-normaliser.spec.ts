import { attachmentRef, commandOf, DEFAULT_COMMAND_PREFIXES, isCommand, namesNeeded, normaliseUpdate, type VkNameBook } from './vk-normaliser';
import type { VkConversation, VkUpdate, VkUser } from './vk-wire';

// Payloads below are shaped as VK documents them for API 5.199 (Bots Long Poll / Callback API).
const GROUP_ID = 229000001;
const CHAT_PEER = 2000000007;

const users: VkUser[] = [
  { id: 1001, first_name: 'Ivan', last_name: 'Petrov', screen_name: 'ipetrov' },
  { id: 1002, first_name: 'Anna', last_name: 'Smirnova', screen_name: 'id1002' },
];
const conversations: VkConversation[] = [
  { peer: { id: CHAT_PEER, type: 'chat', local_id: 7 }, chat_settings: { title: 'Moderators', members_count: 12 } },
];
const names: VkNameBook = {
  user: (id) => users.find((u) => u.id === id),
  conversation: (peerId) => conversations.find((c) => c.peer.id === peerId),
};
const nobody: VkNameBook = { user: () => undefined, conversation: () => undefined };
const options = { commandPrefixes: DEFAULT_COMMAND_PREFIXES };

function messageNew(message: Record<string, unknown>, eventId = 'e-new-1'): VkUpdate {
  return {
    group_id: GROUP_ID,
    type: 'message_new',
    event_id: eventId,
    v: '5.199',
    object: {
      message: {
        date: 1735689600,
        from_id: 1001,
        id: 0,
        out: 0,
        version: 10001,
        attachments: [],
        conversation_message_id: 41,
        fwd_messages: [],
        important: false,
        is_hidden: false,
        peer_id: CHAT_PEER,
        random_id: 0,
        text: '',
        ...message,
      },
      client_info: {
        button_actions: ['text', 'vkpay', 'open_app', 'location', 'open_link', 'callback', 'intent_subscribe'],
        keyboard: true,
        inline_keyboard: true,
        carousel: true,
        lang_id: 0,
      },
    },
  };
}

describe('normaliseUpdate', () => {
  it('turns "/ban @x" in a chat into a command with the chat, the author and the message', () => {
    const event = normaliseUpdate(messageNew({ text: '/ban @x' }), names, options);

    expect(event).toEqual({
      event_id: 'e-new-1',
      event_type: 'command',
      peer: { bpid: CHAT_PEER, cid: 7, name: 'Moderators' },
      user: { uuid: 1001, name: 'Ivan Petrov', firstname: 'Ivan', lastname: 'Petrov', nick: 'ipetrov' },
      message: { cmid: 41, text: '/ban @x', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
    });
  });

  it('calls any text that starts with a prefix a command, as the toaster router did, bare prefixes included', () => {
    const typeOf = (text: string, prefixes = DEFAULT_COMMAND_PREFIXES) =>
      normaliseUpdate(messageNew({ text }), names, { commandPrefixes: prefixes })?.event_type;

    expect(typeOf('!warn 1002')).toBe('command');
    expect(typeOf('/')).toBe('command');
    expect(typeOf('!')).toBe('command');
    expect(typeOf('! x')).toBe('command');
    expect(typeOf('/ ban')).toBe('command');
    expect(typeOf('//')).toBe('command');
    expect(typeOf('hello /ban')).toBe('message');
    expect(typeOf(' /ban')).toBe('message');
    expect(typeOf('')).toBe('message');
    expect(typeOf('#ban', ['#'])).toBe('command');
    expect(typeOf('/ban', ['#'])).toBe('message');
  });

  it('keeps a plain message a message, with reply, forwards, attachment type names and references', () => {
    const event = normaliseUpdate(
      messageNew({
        text: 'look &lt;here&gt; &amp; &quot;there&quot;<br>next line',
        reply_message: { conversation_message_id: 40, from_id: 1002, text: 'what?', date: 1, peer_id: CHAT_PEER, id: 0 },
        fwd_messages: [
          { conversation_message_id: 12, from_id: 1002, text: 'first', date: 1, peer_id: CHAT_PEER },
          { from_id: 1003, text: 'from elsewhere', date: 1 },
        ],
        attachments: [
          { type: 'photo', photo: { id: 456, owner_id: 123, album_id: -3, sizes: [] } },
          { type: 'doc', doc: { id: 9, owner_id: -5, title: 'a.pdf', access_key: 'k3y' } },
          { type: 'sticker', sticker: { product_id: 1, sticker_id: 77 } },
          { type: 'link', link: { url: 'https://example.com', title: 'x' } },
        ],
      }),
      names,
      options,
    );

    expect(event?.event_type).toBe('message');
    expect(event?.message).toEqual({
      cmid: 41,
      text: 'look <here> & "there"\nnext line',
      reply: { uuid: 1002, cmid: 40, text: 'what?' },
      forward: [{ uuid: 1002, cmid: 12, text: 'first' }],
      forward_other: [{ uuid: 1003, cmid: null, text: 'from elsewhere' }],
      attachments: ['photo', 'doc', 'sticker', 'link', 'reply', 'forward'],
      attachment_refs: ['photo123_456', 'doc-5_9_k3y', 'sticker77', 'link'],
    });
  });

  it('does not unescape twice', () => {
    const event = normaliseUpdate(messageNew({ text: 'a &amp;lt; b' }), names, options);
    expect(event?.message?.text).toBe('a &lt; b');
  });

  it('keeps a "<br>" the user typed as text; only VK\'s own <br> is a line break', () => {
    const event = normaliseUpdate(messageNew({ text: 'type &lt;br&gt; here<br>&amp;lt;br&amp;gt; too' }), names, options);
    expect(event?.message?.text).toBe('type <br> here\n&lt;br&gt; too');
  });

  it('reads message_edit from the object itself, not object.message', () => {
    const update = {
      group_id: GROUP_ID,
      type: 'message_edit',
      event_id: 'e-edit-1',
      v: '5.199',
      object: {
        date: 1735689600,
        from_id: 1002,
        id: 0,
        out: 0,
        attachments: [],
        conversation_message_id: 41,
        fwd_messages: [],
        peer_id: CHAT_PEER,
        text: '/ban @y',
        update_time: 1735689700,
      },
    } as VkUpdate;

    expect(normaliseUpdate(update, names, options)).toEqual({
      event_id: 'e-edit-1',
      event_type: 'message_edit',
      peer: { bpid: CHAT_PEER, cid: 7, name: 'Moderators' },
      user: { uuid: 1002, name: 'Anna Smirnova', firstname: 'Anna', lastname: 'Smirnova', nick: 'id1002' },
      message: { cmid: 41, text: '/ban @y', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
    });
  });

  it('turns a callback button press into a button event carrying its event id and payload', () => {
    const update = {
      group_id: GROUP_ID,
      type: 'message_event',
      event_id: 'e-btn-1',
      v: '5.199',
      object: {
        user_id: 1002,
        peer_id: CHAT_PEER,
        event_id: '3159dc190b1f',
        payload: { action: 'approve', ticket: 17 },
        conversation_message_id: 44,
      },
    } as VkUpdate;

    expect(normaliseUpdate(update, names, options)).toEqual({
      event_id: 'e-btn-1',
      event_type: 'button',
      peer: { bpid: CHAT_PEER, cid: 7, name: 'Moderators' },
      user: { uuid: 1002, name: 'Anna Smirnova', firstname: 'Anna', lastname: 'Smirnova', nick: 'id1002' },
      button: { cmid: 44, beid: '3159dc190b1f', payload: { action: 'approve', ticket: 17 } },
    });
  });

  it('turns a reaction into a reaction event, with a null rid when the reaction was removed', () => {
    const reaction = (object: Record<string, unknown>) =>
      ({ group_id: GROUP_ID, type: 'message_reaction_event', event_id: 'e-r', v: '5.199', object }) as VkUpdate;

    expect(normaliseUpdate(reaction({ reacted_id: 1001, peer_id: CHAT_PEER, cmid: 41, reaction_id: 3 }), names, options)).toEqual({
      event_id: 'e-r',
      event_type: 'reaction',
      peer: { bpid: CHAT_PEER, cid: 7, name: 'Moderators' },
      user: { uuid: 1001, name: 'Ivan Petrov', firstname: 'Ivan', lastname: 'Petrov', nick: 'ipetrov' },
      reaction: { cmid: 41, rid: 3 },
    });
    expect(normaliseUpdate(reaction({ reacted_id: 1001, peer_id: CHAT_PEER, cmid: 41 }), names, options)?.reaction).toEqual({ cmid: 41, rid: null });
  });

  it('names a direct conversation after the user and gives it no chat number', () => {
    const event = normaliseUpdate(messageNew({ peer_id: 1001, from_id: 1001, text: 'hi' }), names, options);
    expect(event?.peer).toEqual({ bpid: 1001, cid: null, name: 'Ivan Petrov' });
  });

  it('names a direct conversation as it names the user when VK gives no name', () => {
    const blank: VkNameBook = { user: (id) => ({ id, first_name: '', last_name: '', screen_name: '' }), conversation: () => undefined };
    for (const book of [blank, nobody]) {
      const event = normaliseUpdate(messageNew({ peer_id: 44, from_id: 44, text: 'hi' }), book, options);
      expect(event?.peer).toEqual({ bpid: 44, cid: null, name: 'id44' });
      expect(event?.user.name).toBe('id44');
    }
  });

  it('still produces peer and user when VK would not tell their names', () => {
    const event = normaliseUpdate(messageNew({ text: 'hi' }), nobody, options);
    expect(event?.peer).toEqual({ bpid: CHAT_PEER, cid: 7, name: null });
    expect(event?.user).toEqual({ uuid: 1001, name: 'id1001', firstname: '', lastname: '', nick: 'id1001' });

    const fromCommunity = normaliseUpdate(messageNew({ text: 'hi', from_id: -42 }), names, options);
    expect(fromCommunity?.user).toEqual({ uuid: -42, name: 'club42', firstname: '', lastname: '', nick: 'club42' });
  });

  it('names an API version older than 5.103 as the reason a message_new cannot be read', () => {
    const modern = messageNew({ text: 'hi' });
    const old = { ...modern, v: '5.92', object: (modern.object as { message: unknown }).message } as VkUpdate;
    const reason =
      /^object\.message is missing: the community sends Long Poll events in API 5\.92, older than 5\.103.*Manage → API usage → Long Poll API/;
    expect(() => normaliseUpdate(old, names, options)).toThrow(reason);
    expect(() => namesNeeded([old])).toThrow(reason);
  });

  it('returns null for update types it does not route', () => {
    const wallPost = {
      group_id: GROUP_ID,
      type: 'wall_post_new',
      event_id: 'e-w',
      v: '5.199',
      object: { id: 1, owner_id: -GROUP_ID, text: 'news' },
    } as VkUpdate;
    const typing = {
      group_id: GROUP_ID,
      type: 'message_typing_state',
      event_id: 'e-t',
      v: '5.199',
      object: { state: 'typing', from_id: 1001, to_id: -GROUP_ID },
    } as VkUpdate;

    expect(normaliseUpdate(wallPost, names, options)).toBeNull();
    expect(normaliseUpdate(typing, names, options)).toBeNull();
  });
});

// One attachment of every type VK documents for messages (API 5.199), shaped as VK sends them.
const EVERY_ATTACHMENT = [
  { type: 'photo', photo: { id: 456, owner_id: 1001, album_id: -3, date: 1, sizes: [], access_key: 'pk' } },
  { type: 'video', video: { id: 77, owner_id: -5, title: 'clip', duration: 12, access_key: 'vk' } },
  { type: 'audio', audio: { id: 8, owner_id: 1002, artist: 'a', title: 't', duration: 100 } },
  { type: 'doc', doc: { id: 9, owner_id: 1001, title: 'a.pdf', ext: 'pdf', size: 10 } },
  { type: 'link', link: { url: 'https://example.com', title: 'x' } },
  { type: 'market', market: { id: 3, owner_id: -7, title: 'item' } },
  { type: 'market_album', market_album: { id: 4, owner_id: -7, title: 'shelf' } },
  { type: 'wall', wall: { id: 5, owner_id: -1, text: 'post' } },
  { type: 'wall_reply', wall_reply: { id: 6, owner_id: -1, post_id: 5, text: 'comment' } },
  { type: 'sticker', sticker: { product_id: 1, sticker_id: 77 } },
  { type: 'gift', gift: { id: 12 } },
  { type: 'audio_message', audio_message: { id: 13, owner_id: 1001, duration: 3, access_key: 'ak' } },
  { type: 'graffiti', graffiti: { id: 14, owner_id: 1001, url: 'https://x' } },
  { type: 'poll', poll: { id: 15, owner_id: 1001, question: 'q?' } },
  { type: 'call', call: { initiator_id: 1001, receiver_id: 1002, state: 'reached' } },
  { type: 'story', story: { id: 16, owner_id: 1001 } },
];

describe("the toaster router's field meanings", () => {
  const GEO = { type: 'point', coordinates: { latitude: 55.75, longitude: 37.62 }, place: { title: 'Moscow' } };
  const REPLY = { conversation_message_id: 40, from_id: 1002, text: 'what?', date: 1, peer_id: CHAT_PEER, id: 0 };
  const FORWARD_HERE = { conversation_message_id: 12, from_id: 1002, text: 'said here', date: 1, peer_id: CHAT_PEER, id: 0 };
  const body = (message: Record<string, unknown>) => normaliseUpdate(messageNew(message), names, options)?.message;

  it("lists each attachment by its VK type name, in VK's order, with a reference for each in attachment_refs", () => {
    const message = body({ text: 'everything', attachments: EVERY_ATTACHMENT });
    expect(message?.attachments).toEqual(EVERY_ATTACHMENT.map((a) => a.type));
    expect(message?.attachment_refs).toEqual([
      'photo1001_456_pk',
      'video-5_77_vk',
      'audio1002_8',
      'doc1001_9',
      'link',
      'market-7_3',
      'market_album-7_4',
      'wall-1_5',
      'wall_reply-1_6',
      'sticker77',
      'gift',
      'audio_message1001_13_ak',
      'graffiti1001_14',
      'poll1001_15',
      'call',
      'story1001_16',
    ]);
  });

  it.each(EVERY_ATTACHMENT.map((attachment) => [attachment.type, attachment] as const))(
    'puts "%s" first, then geo, reply and forward in the router\'s order',
    (type, attachment) => {
      const message = body({ text: '', attachments: [attachment], geo: GEO, reply_message: REPLY, fwd_messages: [FORWARD_HERE] });
      expect(message?.attachments).toEqual([type, 'geo', 'reply', 'forward']);
      expect(message?.attachment_refs).toHaveLength(1);
      expect(message?.reply).toEqual({ uuid: 1002, cmid: 40, text: 'what?' });
    },
  );

  it('adds each marker only when the message has it, and never a reference for a marker', () => {
    expect(body({ text: 'x', geo: GEO })?.attachments).toEqual(['geo']);
    expect(body({ text: 'x', reply_message: REPLY })?.attachments).toEqual(['reply']);
    expect(body({ text: 'x', fwd_messages: [FORWARD_HERE] })?.attachments).toEqual(['forward']);
    expect(body({ text: 'x', geo: GEO, fwd_messages: [FORWARD_HERE] })?.attachments).toEqual(['geo', 'forward']);
    expect(body({ text: 'x', attachments: [EVERY_ATTACHMENT[0]], reply_message: REPLY })?.attachments).toEqual(['photo', 'reply']);
    expect(body({ text: 'x', geo: GEO, reply_message: REPLY, fwd_messages: [FORWARD_HERE] })?.attachment_refs).toEqual([]);
    expect(body({ text: 'x' })?.attachments).toEqual([]);
  });

  it('keeps only forwards from this conversation in forward; the others go to forward_other, and "forward" marks both', () => {
    const fromOtherChat = { conversation_message_id: 900, from_id: 1003, text: 'said in another chat', date: 1, peer_id: 2000000099, id: 0 };
    const fromDirect = { from_id: 1001, text: 'said in private', date: 1, id: 5521 };
    const message = body({ text: 'look', fwd_messages: [fromOtherChat, FORWARD_HERE, fromDirect] });

    expect(message?.forward).toEqual([{ uuid: 1002, cmid: 12, text: 'said here' }]);
    expect(message?.forward_other).toEqual([
      { uuid: 1003, cmid: 900, text: 'said in another chat' },
      { uuid: 1001, cmid: null, text: 'said in private' },
    ]);
    expect(message?.attachments).toEqual(['forward']);

    const onlyElsewhere = body({ text: 'look', fwd_messages: [fromDirect] });
    expect(onlyElsewhere?.forward).toEqual([]);
    expect(onlyElsewhere?.forward_other).toHaveLength(1);
    expect(onlyElsewhere?.attachments).toEqual(['forward']);
  });

  it('keeps the same meanings on message_edit and on a command with attachments', () => {
    const command = normaliseUpdate(messageNew({ text: '/', attachments: [EVERY_ATTACHMENT[3]], geo: GEO }), names, options);
    expect(command?.event_type).toBe('command');
    expect(command?.message?.attachments).toEqual(['doc', 'geo']);
  });
});

describe('namesNeeded', () => {
  it('collects each author and chat once, asks users.get for direct-conversation peers, skips communities', () => {
    const updates = [
      messageNew({ text: 'a', from_id: 1001 }, 'e1'),
      messageNew({ text: 'b', from_id: 1001 }, 'e2'),
      messageNew({ text: 'c', from_id: -42 }, 'e3'),
      messageNew({ text: 'd', from_id: 1005, peer_id: 1005 }, 'e4'),
      {
        group_id: GROUP_ID,
        type: 'message_reaction_event',
        event_id: 'e5',
        object: { reacted_id: 1002, peer_id: 2000000009, cmid: 1, reaction_id: 1 },
      } as VkUpdate,
      { group_id: GROUP_ID, type: 'group_join', event_id: 'e6', object: { user_id: 1009 } } as VkUpdate,
    ];

    const needed = namesNeeded(updates);
    expect(needed.userIds.sort()).toEqual([1001, 1002, 1005]);
    expect(needed.peerIds.sort()).toEqual([CHAT_PEER, 2000000009]);
  });
});

describe('commandOf', () => {
  it('names the command without its prefix and arguments, lower-cased', () => {
    expect(commandOf('/Ban @x for spam', ['/'])).toBe('ban');
    expect(commandOf('!!kick', ['!!', '!'])).toBe('kick');
    expect(commandOf('plain', ['/'])).toBeNull();
    // Still commands (isCommand), but they name none, so no `commands:` route filter matches them.
    expect(commandOf('/', ['/'])).toBeNull();
    expect(commandOf('! x', ['!'])).toBeNull();
    expect(isCommand('/', ['/'])).toBe(true);
    expect(isCommand('! x', ['!'])).toBe(true);
  });
});

describe('attachmentRef', () => {
  it('falls back to the bare type for unknown shapes', () => {
    expect(attachmentRef({ type: 'poll' })).toBe('poll');
    expect(attachmentRef({ type: 'wall', wall: { id: 5, owner_id: -1 } })).toBe('wall-1_5');
  });
});
