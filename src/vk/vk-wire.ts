// VK API 5.199 wire shapes Herald reads (Bots Long Poll updates and the three API methods it calls).
// Declared here once, narrower than vk-io's generated schemas (which type every object as `[key: string]: any`).

export const VK_CHAT_PEER_OFFSET = 2_000_000_000;

/** `groups.getLongPollServer` response. */
/** groups.getLongPollSettings: the community's Long Poll switch, the API version its events use, and which it sends (1). */
export interface VkLongPollSettings {
  is_enabled: boolean | number;
  api_version: string;
  events: Record<string, number | boolean>;
}

export interface VkLongPollServer {
  key: string;
  server: string;
  ts: string;
}

/** Long-poll `a_check` answer: a batch, or a failure the client must react to. */
export type VkLongPollResponse = VkLongPollBatch | VkLongPollFailure;

export interface VkLongPollBatch {
  ts: string;
  updates: VkUpdate[];
}

export interface VkLongPollFailure {
  /** 1: history out of date, continue from `ts`; 2: key expired; 3: information lost, new key and ts. */
  failed: 1 | 2 | 3;
  ts?: string | number;
  min_version?: number;
  max_version?: number;
}

export interface VkUpdateBase<Type extends string, Obj> {
  type: Type;
  object: Obj;
  group_id: number;
  event_id: string;
  v?: string;
}

/** The update types Herald normalises. */
export type VkKnownUpdate =
  | VkUpdateBase<'message_new', VkMessageNewObject>
  | VkUpdateBase<'message_edit', VkMessage>
  | VkUpdateBase<'message_event', VkMessageEventObject>
  | VkUpdateBase<'message_reaction_event', VkMessageReactionEventObject>;

export type VkUpdate = VkKnownUpdate | VkOtherUpdate;

/** Any update type Herald does not normalise (wall_post_new, group_join, message_typing_state, ...). */
export interface VkOtherUpdate extends VkUpdateBase<string, unknown> {
  type: string;
}

export interface VkClientInfo {
  button_actions: string[];
  keyboard: boolean;
  inline_keyboard: boolean;
  carousel: boolean;
  lang_id: number;
}

export interface VkMessageNewObject {
  message: VkMessage;
  client_info: VkClientInfo;
}

export interface VkMessage {
  id: number;
  date: number;
  peer_id: number;
  from_id: number;
  text: string;
  conversation_message_id: number;
  attachments?: VkAttachment[];
  fwd_messages?: VkForeignMessage[];
  reply_message?: VkForeignMessage;
  /** Present when the message carries a location. */
  geo?: VkGeo;
  payload?: string;
  out?: 0 | 1;
  important?: boolean;
  is_hidden?: boolean;
  random_id?: number;
  version?: number;
  update_time?: number;
}

export interface VkGeo {
  type: string;
  coordinates: { latitude: number; longitude: number };
  place?: { title?: string; country?: string; city?: string };
}

/** A replied-to or forwarded message; `conversation_message_id` is absent for some forwards. */
export interface VkForeignMessage {
  id?: number;
  date?: number;
  peer_id?: number;
  from_id: number;
  text: string;
  conversation_message_id?: number;
  attachments?: VkAttachment[];
  fwd_messages?: VkForeignMessage[];
}

/** `{ type: 'photo', photo: { id, owner_id, access_key?, ... } }` — the media object sits under the key named by `type`. */
export interface VkAttachment {
  type: string;
  [media: string]: unknown;
}

export interface VkMediaRef {
  id?: number;
  owner_id?: number;
  access_key?: string;
}

/** `message_event`: a callback button was pressed. */
export interface VkMessageEventObject {
  user_id: number;
  peer_id: number;
  event_id: string;
  payload?: unknown;
  conversation_message_id: number;
}

/** `message_reaction_event`: `reaction_id` is absent when the reaction was removed. */
export interface VkMessageReactionEventObject {
  reacted_id: number;
  peer_id: number;
  cmid: number;
  reaction_id?: number;
}

/** `users.get` item with `fields=screen_name`. */
export interface VkUser {
  id: number;
  first_name: string;
  last_name: string;
  screen_name?: string;
  deactivated?: string;
}

/** `messages.getConversationsById` response. */
export interface VkConversationsResponse {
  count: number;
  items: VkConversation[];
}

export interface VkConversation {
  peer: { id: number; type: 'chat' | 'user' | 'group' | 'email'; local_id: number };
  chat_settings?: { title: string; members_count?: number; owner_id?: number };
}

/** `{ error: { error_code, error_msg, request_params } }` envelope of a failed API call. */
export interface VkApiErrorBody {
  error_code: number;
  error_msg: string;
  request_params?: { key: string; value: string }[];
}

/** API error codes Herald reacts to. */
export const VkErrorCode = {
  AuthFailed: 5,
  TooManyRequests: 6,
  Flood: 9,
  Internal: 10,
  AccessDenied: 15,
  InvalidParameter: 100,
  GroupAuthFailed: 27,
  AppAuthFailed: 28,
} as const;
