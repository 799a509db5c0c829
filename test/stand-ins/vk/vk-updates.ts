// Builders for Bots Long Poll updates shaped as VK documents them for API 5.199.
import { randomBytes } from 'node:crypto';
import type { VkAttachment, VkForeignMessage, VkUpdate } from '../../../src/vk/vk-wire';

export const STAND_IN_GROUP_ID = 229000001;
export const chatPeer = (chatNumber: number): number => 2_000_000_000 + chatNumber;

/** VK's event ids are 40 hex characters. */
export const newEventId = (): string => randomBytes(20).toString('hex');

export interface MessageSpec {
  peerId: number;
  fromId: number;
  text: string;
  cmid: number;
  reply?: VkForeignMessage;
  forwards?: VkForeignMessage[];
  attachments?: VkAttachment[];
  eventId?: string;
  groupId?: number;
}

export function messageNew(spec: MessageSpec): VkUpdate {
  return {
    group_id: spec.groupId ?? STAND_IN_GROUP_ID,
    type: 'message_new',
    event_id: spec.eventId ?? newEventId(),
    v: '5.199',
    object: {
      message: {
        date: Math.floor(Date.now() / 1000),
        from_id: spec.fromId,
        id: 0, // VK gives 0 for messages in group chats
        out: 0,
        version: 10_000_000 + spec.cmid,
        attachments: spec.attachments ?? [],
        conversation_message_id: spec.cmid,
        fwd_messages: spec.forwards ?? [],
        ...(spec.reply ? { reply_message: spec.reply } : {}),
        important: false,
        is_hidden: false,
        peer_id: spec.peerId,
        random_id: 0,
        text: spec.text,
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

export function messageEdit(spec: MessageSpec): VkUpdate {
  return {
    group_id: spec.groupId ?? STAND_IN_GROUP_ID,
    type: 'message_edit',
    event_id: spec.eventId ?? newEventId(),
    v: '5.199',
    object: {
      date: Math.floor(Date.now() / 1000) - 60,
      from_id: spec.fromId,
      id: 0,
      out: 0,
      version: 10_000_000 + spec.cmid + 1,
      attachments: spec.attachments ?? [],
      conversation_message_id: spec.cmid,
      fwd_messages: spec.forwards ?? [],
      important: false,
      is_hidden: false,
      peer_id: spec.peerId,
      text: spec.text,
      update_time: Math.floor(Date.now() / 1000),
    },
  };
}

export function callbackButton(spec: {
  peerId: number;
  userId: number;
  cmid: number;
  payload: unknown;
  eventId?: string;
  callbackId?: string;
}): VkUpdate {
  return {
    group_id: STAND_IN_GROUP_ID,
    type: 'message_event',
    event_id: spec.eventId ?? newEventId(),
    v: '5.199',
    object: {
      user_id: spec.userId,
      peer_id: spec.peerId,
      event_id: spec.callbackId ?? randomBytes(6).toString('hex'),
      payload: spec.payload,
      conversation_message_id: spec.cmid,
    },
  };
}

export function reaction(spec: { peerId: number; userId: number; cmid: number; reactionId?: number; eventId?: string }): VkUpdate {
  return {
    group_id: STAND_IN_GROUP_ID,
    type: 'message_reaction_event',
    event_id: spec.eventId ?? newEventId(),
    v: '5.199',
    object: {
      reacted_id: spec.userId,
      peer_id: spec.peerId,
      cmid: spec.cmid,
      ...(spec.reactionId === undefined ? {} : { reaction_id: spec.reactionId }),
    },
  };
}

/** An update type Herald does not route. */
export function typingState(fromId: number): VkUpdate {
  return {
    group_id: STAND_IN_GROUP_ID,
    type: 'message_typing_state',
    event_id: newEventId(),
    v: '5.199',
    object: { state: 'typing', from_id: fromId, to_id: -STAND_IN_GROUP_ID },
  };
}
