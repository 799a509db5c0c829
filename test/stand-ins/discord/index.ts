export { startDiscordStandIn } from './discord-stand-in';
export type { DiscordStandIn, DiscordStandInOptions, UserMessage, UserMessageChange, WaitOptions } from './discord-stand-in';
export type { GuildOptions, RoleOptions, UserOptions, ChannelOptions, EmojiOptions } from './guild-fixture';
export type { RecordedPresence } from './gateway';
export type { FailureRule, RecordedRequest } from './rest-api';
export type { StoredMessage, StoredAttachment, NewAttachment } from './message-store';
export { avatarPng, emojiPng, solidPng, pngSize } from './images';
export { SnowflakeGenerator, snowflakeTime } from './snowflake';
