// The normalised `Event` Herald routes onward: the shape the toaster event-routing service's consumers already read,
// so its JSON keys stay snake_case / short where that service used them.

export const VK_EVENT_TYPES = ['command', 'message', 'button', 'reaction', 'message_edit'] as const;
export type VkEventType = (typeof VK_EVENT_TYPES)[number];

export interface VkEvent {
  event_id: string;
  event_type: VkEventType;
  peer: VkEventPeer;
  user: VkEventUser;
  message?: VkEventMessage;
  button?: VkEventButton;
  reaction?: VkEventReaction;
}

export interface VkEventPeer {
  /** VK peer_id. */
  bpid: number;
  /** Chat number (peer_id − 2000000000) for group chats; null for direct conversations. */
  cid: number | null;
  /** The chat's title (null when VK would not tell); for a direct conversation the user's name as `user.name` gives it. */
  name: string | null;
}

export interface VkEventUser {
  uuid: number;
  /** "First Last"; `id<uuid>` when VK would not tell. */
  name: string;
  firstname: string;
  lastname: string;
  /** Screen name; VK's default is `id<uuid>`. */
  nick: string;
}

export interface VkQuotedMessage {
  /** The quoted message's author (VK's from_id; negative for a community). */
  uuid: number;
  /** Its number in this conversation; null when VK does not give one (forwarded from elsewhere). */
  cmid: number | null;
  text: string;
}

export interface VkEventMessage {
  cmid: number;
  text: string;
  reply: VkQuotedMessage | null;
  /** Forwarded messages from this same conversation (their cmid is usable here), as the toaster router kept them. */
  forward: VkQuotedMessage[];
  /** Forwarded messages from other conversations (cmid usually null), which the router left out. */
  forward_other: VkQuotedMessage[];
  /**
   * The router's meaning: attachment type names in VK's order (`photo`, `doc`, `sticker`, ...), then the markers
   * `geo` (a location), `reply` (a reply) and `forward` (any forwarded message), in that order.
   */
  attachments: string[];
  /** `<type><owner_id>_<id>[_<access_key>]` per attachment, in the same order as its type name, e.g. `photo123_456`. */
  attachment_refs: string[];
}

export interface VkEventButton {
  cmid: number;
  /** The callback's event id (needed to answer it with messages.sendMessageEventAnswer). */
  beid: string;
  payload: unknown;
}

export interface VkEventReaction {
  cmid: number;
  /** Reaction id; null when the reaction was removed. */
  rid: number | null;
}

/** One field of the `Event` for GET /vk/routes and the README: dotted path, JSON type, meaning. */
export interface VkEventFieldDoc {
  field: string;
  type: string;
  meaning: string;
}

/** What every field of the `Event` means; GET /vk/routes shows it and the README table mirrors it. */
export const VK_EVENT_SCHEMA: readonly VkEventFieldDoc[] = [
  { field: 'event_id', type: 'string', meaning: "VK's event id; unique per update. Delivery is at least once: drop repeats by it." },
  { field: 'event_type', type: 'string', meaning: `one of ${VK_EVENT_TYPES.join(', ')}; also the name of the default queue / channel / stream` },
  { field: 'peer.bpid', type: 'integer', meaning: 'VK peer_id of the conversation (2000000000 + chat number for group chats)' },
  { field: 'peer.cid', type: 'integer | null', meaning: 'chat number (peer_id − 2000000000) for group chats; null for a direct conversation' },
  { field: 'peer.name', type: 'string | null', meaning: "chat title (null when VK would not tell); for a direct conversation user.name's value" },
  { field: 'user.uuid', type: 'integer', meaning: 'who caused the event: VK user id (negative for a community)' },
  { field: 'user.name', type: 'string', meaning: '"First Last"; id<uuid> (club<id> for a community) when VK would not tell' },
  { field: 'user.firstname', type: 'string', meaning: 'first name; empty when VK would not tell' },
  { field: 'user.lastname', type: 'string', meaning: 'last name; empty when VK would not tell' },
  { field: 'user.nick', type: 'string', meaning: 'screen name (VK default id<uuid>)' },
  { field: 'message', type: 'object', meaning: 'command, message and message_edit events only' },
  { field: 'message.cmid', type: 'integer', meaning: 'conversation_message_id of the message' },
  { field: 'message.text', type: 'string', meaning: 'text as the user typed it (VK HTML escapes undone)' },
  { field: 'message.reply', type: 'object | null', meaning: 'the replied-to message: { uuid, cmid, text }' },
  { field: 'message.forward', type: 'array', meaning: 'forwarded messages from this conversation: [{ uuid, cmid, text }]' },
  { field: 'message.forward_other', type: 'array', meaning: 'forwarded messages from other conversations: [{ uuid, cmid (usually null), text }]' },
  {
    field: 'message.attachments',
    type: 'string[]',
    meaning:
      'attachment type names in order (photo, video, audio, doc, sticker, link, wall, poll, ...), then the markers geo, reply, forward when present',
  },
  {
    field: 'message.attachment_refs',
    type: 'string[]',
    meaning: 'one reference per attachment: <type><owner_id>_<id>[_<access_key>] (sticker<id>; the bare type when VK gives no id)',
  },
  { field: 'button', type: 'object', meaning: 'button events only' },
  { field: 'button.cmid', type: 'integer', meaning: 'conversation_message_id of the message carrying the button' },
  { field: 'button.beid', type: 'string', meaning: 'the callback event id, for messages.sendMessageEventAnswer' },
  { field: 'button.payload', type: 'any', meaning: "the button's payload (null when none)" },
  { field: 'reaction', type: 'object', meaning: 'reaction events only' },
  { field: 'reaction.cmid', type: 'integer', meaning: 'conversation_message_id of the message reacted to' },
  { field: 'reaction.rid', type: 'integer | null', meaning: 'reaction id; null when the reaction was removed' },
];
