// Turns a Bots Long Poll update into Herald's `VkEvent`. Pure: names come in through a `VkNameBook` the caller filled.
import type { VkEvent, VkEventMessage, VkEventPeer, VkEventUser, VkQuotedMessage } from './vk-event';
import {
  VK_CHAT_PEER_OFFSET,
  type VkAttachment,
  type VkConversation,
  type VkForeignMessage,
  type VkKnownUpdate,
  type VkMediaRef,
  type VkMessage,
  type VkUpdate,
  type VkUser,
} from './vk-wire';

export const DEFAULT_COMMAND_PREFIXES: readonly string[] = ['/', '!'];

/** What the caller already knows about the people and chats of a batch (from the cached directory). */
export interface VkNameBook {
  user(userId: number): VkUser | undefined;
  conversation(peerId: number): VkConversation | undefined;
}

export interface NormaliseOptions {
  commandPrefixes: readonly string[];
}

/** The update types Herald turns into events; any other is counted and skipped. */
export const NORMALISED_UPDATE_TYPES: readonly VkKnownUpdate['type'][] = ['message_new', 'message_edit', 'message_event', 'message_reaction_event'];
const KNOWN_TYPES: ReadonlySet<string> = new Set<string>(NORMALISED_UPDATE_TYPES);

export function isKnownUpdate(update: VkUpdate): update is VkKnownUpdate {
  return KNOWN_TYPES.has(update.type);
}

/** The VkEvent for an update, or null for a type Herald does not route (the caller counts and skips it). */
export function normaliseUpdate(update: VkUpdate, names: VkNameBook, options: NormaliseOptions): VkEvent | null {
  if (!isKnownUpdate(update)) return null;
  switch (update.type) {
    case 'message_new': {
      const message = wrappedMessage(update);
      const body = messageBody(message);
      return {
        event_id: update.event_id,
        event_type: isCommand(body.text, options.commandPrefixes) ? 'command' : 'message',
        peer: peerOf(message.peer_id, names),
        user: userOf(message.from_id, names),
        message: body,
      };
    }
    case 'message_edit': {
      // Unlike message_new, the edited message is the object itself, not wrapped in `object.message`.
      const message = update.object;
      return {
        event_id: update.event_id,
        event_type: 'message_edit',
        peer: peerOf(message.peer_id, names),
        user: userOf(message.from_id, names),
        message: messageBody(message),
      };
    }
    case 'message_event': {
      const callback = update.object;
      return {
        event_id: update.event_id,
        event_type: 'button',
        peer: peerOf(callback.peer_id, names),
        user: userOf(callback.user_id, names),
        button: { cmid: callback.conversation_message_id, beid: callback.event_id, payload: callback.payload ?? null },
      };
    }
    case 'message_reaction_event': {
      const reaction = update.object;
      return {
        event_id: update.event_id,
        event_type: 'reaction',
        peer: peerOf(reaction.peer_id, names),
        user: userOf(reaction.reacted_id, names),
        reaction: { cmid: reaction.cmid, rid: reaction.reaction_id ?? null },
      };
    }
  }
}

/** User ids and peer ids whose names the batch needs, so the directory can fetch them in one call each. */
export function namesNeeded(updates: readonly VkUpdate[]): { userIds: number[]; peerIds: number[] } {
  const userIds = new Set<number>();
  const peerIds = new Set<number>();
  for (const update of updates) {
    const ids = idsOf(update);
    if (!ids) continue;
    if (ids.userId > 0) userIds.add(ids.userId);
    if (isChatPeer(ids.peerId)) peerIds.add(ids.peerId);
    // A direct conversation is named after the user on the other side.
    else if (ids.peerId > 0) userIds.add(ids.peerId);
  }
  return { userIds: [...userIds], peerIds: [...peerIds] };
}

/**
 * Whether a message is a `command`: as the toaster router decided, any text that starts with a prefix, a prefix
 * alone ("/") or followed by a space ("! x") included.
 */
export function isCommand(text: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => prefix.length > 0 && text.startsWith(prefix));
}

/**
 * The command name of a text ("/ban @x" → "ban") for routes that filter on `commands`, or null when it has none:
 * a prefix alone, or a prefix followed by a space, names no command (though the event is still a `command`).
 */
export function commandOf(text: string, prefixes: readonly string[]): string | null {
  const prefix = prefixes.find((p) => p.length > 0 && text.startsWith(p));
  if (prefix === undefined) return null;
  const name = /^\S+/.exec(text.slice(prefix.length))?.[0];
  return name ? name.toLowerCase() : null;
}

export function isChatPeer(peerId: number): boolean {
  return peerId > VK_CHAT_PEER_OFFSET;
}

function idsOf(update: VkUpdate): { userId: number; peerId: number } | null {
  if (!isKnownUpdate(update)) return null;
  switch (update.type) {
    case 'message_new': {
      const message = wrappedMessage(update);
      return { userId: message.from_id, peerId: message.peer_id };
    }
    case 'message_edit':
      return { userId: update.object.from_id, peerId: update.object.peer_id };
    case 'message_event':
      return { userId: update.object.user_id, peerId: update.object.peer_id };
    case 'message_reaction_event':
      return { userId: update.object.reacted_id, peerId: update.object.peer_id };
  }
}

/**
 * message_new's message, which VK wraps in `object.message` from API 5.103 on. A community whose Long Poll API version
 * is older sends the message as the object itself: say so, instead of a TypeError about `from_id`.
 */
function wrappedMessage(update: Extract<VkKnownUpdate, { type: 'message_new' }>): VkMessage {
  const message = (update.object as { message?: VkMessage }).message;
  if (typeof message === 'object' && message !== null) return message;
  const version = typeof update.v === 'string' ? `API ${update.v}` : 'an API version';
  throw new Error(
    `object.message is missing: the community sends Long Poll events in ${version}, older than 5.103, which wraps the message in ` +
      "object.message; set the API version in the community's settings (Manage → API usage → Long Poll API)",
  );
}

function peerOf(peerId: number, names: VkNameBook): VkEventPeer {
  if (isChatPeer(peerId)) {
    return {
      bpid: peerId,
      cid: peerId - VK_CHAT_PEER_OFFSET,
      name: names.conversation(peerId)?.chat_settings?.title ?? null,
    };
  }
  // Named as `user` names the same person (id<n> when VK gives no name), so the two never disagree.
  return { bpid: peerId, cid: null, name: peerId > 0 ? userOf(peerId, names).name : null };
}

function userOf(userId: number, names: VkNameBook): VkEventUser {
  const user = userId > 0 ? names.user(userId) : undefined;
  const fallback = userId > 0 ? `id${userId}` : `club${-userId}`;
  if (!user) return { uuid: userId, name: fallback, firstname: '', lastname: '', nick: fallback };
  return {
    uuid: userId,
    name: fullName(user) || fallback,
    firstname: user.first_name,
    lastname: user.last_name,
    nick: user.screen_name || fallback,
  };
}

function fullName(user: VkUser): string {
  return `${user.first_name} ${user.last_name}`.trim();
}

function messageBody(message: VkMessage): VkEventMessage {
  const attachments = message.attachments ?? [];
  const forwards = message.fwd_messages ?? [];
  const here = (forwarded: VkForeignMessage) => isFromConversation(forwarded, message.peer_id);
  // The toaster router's order: the attachments' types as VK lists them, then geo, reply, forward.
  const markers = [message.geo ? 'geo' : null, message.reply_message ? 'reply' : null, forwards.length > 0 ? 'forward' : null];
  return {
    cmid: message.conversation_message_id,
    text: unescapeVkText(message.text ?? ''),
    reply: message.reply_message ? quoted(message.reply_message) : null,
    forward: forwards.filter(here).map(quoted),
    forward_other: forwards.filter((forwarded) => !here(forwarded)).map(quoted),
    attachments: [...attachments.map((attachment) => attachment.type), ...markers.filter((marker) => marker !== null)],
    attachment_refs: attachments.map(attachmentRef),
  };
}

/**
 * A forwarded message is from this conversation when VK gives it this peer and a conversation_message_id (so a
 * consumer can act on it here). The router only asked for a peer_id; a message forwarded from another chat the
 * community is in carries that chat's peer_id, and its cmid means nothing in this one.
 */
function isFromConversation(forwarded: VkForeignMessage, peerId: number): boolean {
  return forwarded.peer_id === peerId && typeof forwarded.conversation_message_id === 'number';
}

function quoted(message: VkForeignMessage): VkQuotedMessage {
  return {
    uuid: message.from_id,
    cmid: message.conversation_message_id ?? null,
    text: unescapeVkText(message.text ?? ''),
  };
}

/**
 * `photo123_456` (plus `_<access_key>` when VK gives one, which messages.send needs to re-post a private object).
 * Attachments without an owner/id pair (a link, a sticker) keep their type alone, or `sticker<id>`.
 */
export function attachmentRef(attachment: VkAttachment): string {
  const media = attachment[attachment.type];
  if (!isMediaRef(media)) return attachment.type;
  if (typeof media.owner_id === 'number' && typeof media.id === 'number') {
    const ref = `${attachment.type}${media.owner_id}_${media.id}`;
    return media.access_key ? `${ref}_${media.access_key}` : ref;
  }
  const stickerId = (media as { sticker_id?: unknown }).sticker_id;
  if (attachment.type === 'sticker' && typeof stickerId === 'number') return `sticker${stickerId}`;
  return attachment.type;
}

function isMediaRef(value: unknown): value is VkMediaRef {
  return typeof value === 'object' && value !== null;
}

/** VK escapes message text as HTML (the same table vk-io undoes); consumers want what the user typed. */
const VK_ESCAPES: Readonly<Record<string, string>> = { '<br>': '\n', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&amp;': '&' };

/**
 * One pass, so nothing undone is read again: a "<br>" the user typed comes as `&lt;br&gt;` and stays "<br>" (undoing
 * `&lt;` before `<br>` made it a line break), and `&amp;lt;` stays "&lt;".
 */
export function unescapeVkText(text: string): string {
  return text.replace(/<br>|&(?:lt|gt|quot|amp);/g, (escape) => VK_ESCAPES[escape]);
}
