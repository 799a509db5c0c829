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
  /** The chat's title; for a direct conversation the user's name; null when VK would not tell. */
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
  cmid: number | null;
  text: string;
}

export interface VkEventMessage {
  cmid: number;
  text: string;
  reply: VkQuotedMessage | null;
  forward: VkQuotedMessage[];
  /** `<type><owner_id>_<id>[_<access_key>]`, e.g. `photo123_456`. */
  attachments: string[];
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
