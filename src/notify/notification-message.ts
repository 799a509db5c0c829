import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { APIEmbed, RESTPatchAPIChannelMessageJSONBody, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { NotificationContentDto, Severity } from './notification.dto';

/** What a notification shows on Discord; stored as accepted so a restart or another replica sends the same thing. */
export type NotificationMessage = Pick<RESTPostAPIChannelMessageJSONBody, 'content' | 'embeds'>;

/** Discord's own brand colours, so severities look at home in the client. */
export const SEVERITY_COLOURS: Record<Severity, number> = {
  info: 0x5865f2,
  warning: 0xfee75c,
  error: 0xed4245,
  success: 0x57f287,
};

/** Turns the API's conveniences (message shorthand, severity, username/avatarUrl) into Discord's message body. */
export function composeMessage(request: NotificationContentDto): NotificationMessage {
  const asEmbed = request.message !== undefined && Boolean(request.severity || request.username || request.avatarUrl);
  const content = asEmbed ? mentionsOf(request.message ?? '') : (request.message ?? request.content);
  const embeds: APIEmbed[] = asEmbed ? [{ description: request.message }] : (request.embeds ?? []).map(toDiscordEmbed);

  if (request.severity) {
    const colour = SEVERITY_COLOURS[request.severity];
    for (const embed of embeds) embed.color ??= colour;
  }
  if (request.username && embeds.length > 0) {
    embeds[0].author = { name: request.username, ...(request.avatarUrl ? { icon_url: request.avatarUrl } : {}) };
  }

  return {
    ...(content !== undefined && content !== '' ? { content } : {}),
    ...(embeds.length > 0 ? { embeds } : {}),
  };
}

/** User, role and @everyone/@here mentions, as Discord writes them in text. */
const MENTION = /<@!?\d{15,21}>|<@&\d{15,21}>|@everyone|@here/g;

/**
 * Discord never pings a mention inside an embed: when the shorthand becomes an embed, its mentions are repeated as
 * the message text (each once, in order), so they ping as they did when the text was sent as it is.
 */
function mentionsOf(text: string): string | undefined {
  const mentions = [...new Set(text.match(MENTION) ?? [])];
  return mentions.length > 0 ? mentions.join(' ') : undefined;
}

/** Copies only the fields Discord knows, dropping the DTO's class identity and undefined keys before storage. */
function toDiscordEmbed(embed: APIEmbed): APIEmbed {
  return JSON.parse(JSON.stringify(embed)) as APIEmbed;
}

/** The body for POST /channels/{id}/messages. The notification id as an enforced nonce makes Discord drop a
 * duplicate create when a timed-out request did arrive and the worker sends it again. */
export function createBody(message: NotificationMessage, notificationId: string): RESTPostAPIChannelMessageJSONBody {
  return { ...message, nonce: notificationId, enforce_nonce: true };
}

/** An edit replaces what the message shows: text and embeds that are absent are cleared, not kept. */
export function editBody(message: NotificationMessage): RESTPatchAPIChannelMessageJSONBody {
  return { content: message.content ?? '', embeds: message.embeds ?? [] };
}

/**
 * What an Idempotency-Key stands for: the channel and the message as composed, with object keys sorted, so the same
 * request sent again (fields in any order, `message` or the `content` it becomes) matches and another one does not.
 */
export function requestFingerprint(channelId: string, message: NotificationMessage): string {
  return createHash('sha256')
    .update(stringify({ channelId, message }) ?? '')
    .digest('hex');
}
