import { DiscordAPIError, HTTPError, REST, RateLimitError } from '@discordjs/rest';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APIApplication, APIMessage, RESTPatchAPIChannelMessageJSONBody, RESTPostAPIChannelMessageJSONBody, Routes } from 'discord-api-types/v10';
import { APP_CONFIG, AppConfig, enabledFeatures } from '../config/config';
import { ReadinessService } from '../health/readiness.service';
import { WHERE_THE_INVITE_IS, WHERE_THE_TOKEN_IS, botPermissions, inviteUrl } from './discord-invite';

/**
 * Discord's REST API for everyone who posts without a gateway connection (Drone, Notify, VK bridge).
 * @discordjs/rest waits out 429s (per-route buckets and the global limit) and retries 5xx and network errors.
 */
@Injectable()
export class DiscordRest implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DiscordRest.name);
  readonly rest: REST;
  /** False without DISCORD_TOKEN: features that post only where it is set check this first. */
  readonly configured: boolean;
  /** Set once Discord answered 401: @discordjs/rest then drops the token, and nothing is posted until a restart. */
  private tokenRefused = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: ReadinessService,
  ) {
    this.configured = Boolean(config.discord.token);
    this.rest = new REST({ version: '10', api: config.discord.apiUrl, retries: 3, timeout: 15_000 }).setToken(config.discord.token ?? '');
    this.rest.on('rateLimited', (info) =>
      this.logger.warn({ route: info.route, retryAfterMs: info.retryAfter, global: info.global }, 'Discord rate limit hit; waiting'),
    );
  }

  /**
   * A process that posts without the bot's gateway (Notify, Drone, the VK bridge in an `api` replica) says once, at
   * start, which application's bot it posts as and the link that adds that bot to a server, and whether Discord takes
   * the token: otherwise a wrong token or a bot in no server shows only when the first message is refused. Where this
   * process also runs the bot, its gateway says so (DiscordGateway). Start-up does not wait for Discord.
   */
  onApplicationBootstrap(): void {
    if (!this.configured || enabledFeatures(this.config).discordBot) return;
    // Optional (degraded, not down): the replica still stores what clients send, to be posted once the token is fixed.
    this.readiness.register({
      name: 'discord',
      required: false,
      check: () => (this.tokenRefused ? Promise.reject(new Error(TOKEN_REFUSED)) : Promise.resolve()),
    });
    this.call(() => this.rest.get(Routes.currentApplication()) as Promise<APIApplication>)
      .then(
        (application) => {
          const invite = inviteUrl(application.id, botPermissions(false), false);
          this.logger.log(
            { applicationId: application.id, application: application.name, invite },
            "Posting to Discord as this application's bot (the invite link adds it to a server)",
          );
        },
        (error: unknown) => {
          // A refused token was logged as an error by call(); anything else is only a warning here.
          if (!isTokenRefusal(error))
            this.logger.warn(
              { reason: describeDiscordError(error) },
              'Could not read the Discord application at start-up; posting will be tried as messages come',
            );
        },
      )
      // Advice only: an answer of another shape must not reach the process as an unhandled rejection.
      .catch((error: unknown) => this.logger.warn({ reason: describeDiscordError(error) }, 'Could not read the Discord application at start-up'));
  }

  createMessage(channelId: string, body: RESTPostAPIChannelMessageJSONBody): Promise<APIMessage> {
    return this.call(() => this.rest.post(Routes.channelMessages(channelId), { body }) as Promise<APIMessage>);
  }

  editMessage(channelId: string, messageId: string, body: RESTPatchAPIChannelMessageJSONBody): Promise<APIMessage> {
    return this.call(() => this.rest.patch(Routes.channelMessage(channelId, messageId), { body }) as Promise<APIMessage>);
  }

  async deleteMessage(channelId: string, messageId: string): Promise<void> {
    await this.call(() => this.rest.delete(Routes.channelMessage(channelId, messageId)));
  }

  /** Notes a refused token (for readiness) on the way through. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (isTokenRefusal(error) && !this.tokenRefused) {
        this.tokenRefused = true;
        this.logger.error({ reason: describeDiscordError(error) }, TOKEN_REFUSED);
      }
      throw error;
    }
  }

  onModuleDestroy(): void {
    this.rest.clearHashSweeper();
    this.rest.clearHandlerSweeper();
  }
}

/** What a refused token means here, in every record, log line and readiness check that meets one. */
export const TOKEN_REFUSED = `Discord refused DISCORD_TOKEN: nothing can be posted until it is the bot token (from ${WHERE_THE_TOKEN_IS}) and Herald is restarted with it`;

/** @discordjs/rest's own words for a request made after a 401 made it drop the token. */
const TOKEN_DROPPED = 'Expected token to be set for this request, but none was present';

/** A 401, or any later request @discordjs/rest refused to send because a 401 made it drop the token. */
function isTokenRefusal(error: unknown): boolean {
  return (error instanceof DiscordAPIError && error.status === 401) || (error instanceof Error && error.message === TOKEN_DROPPED);
}

/** Discord JSON error codes that no retry will fix. */
const PERMANENT_CODES = new Set([
  10003, // Unknown Channel
  10008, // Unknown Message
  50001, // Missing Access
  50013, // Missing Permissions
  50035, // Invalid Form Body
  50006, // Cannot send an empty message
  50007, // Cannot send messages to this user
  40005, // Request entity too large
]);

/** True when retrying cannot help: a bad channel, missing permission or a body Discord refuses. */
export function isPermanentDiscordError(error: unknown): boolean {
  if (error instanceof DiscordAPIError) {
    if (typeof error.code === 'number' && PERMANENT_CODES.has(error.code)) return true;
    return error.status >= 400 && error.status < 500 && error.status !== 429 && error.status !== 408;
  }
  if (error instanceof HTTPError) return error.status >= 400 && error.status < 500 && error.status !== 429 && error.status !== 408;
  return false;
}

/**
 * What to do about the refusals a new setup meets first: Discord's words say what is wrong, not that the cause is
 * usually a bot not yet added to the channel's server, or added without the permissions it posts with.
 */
const WHAT_TO_DO: Record<number, string> = {
  10003: `no channel with this id is visible to the bot: check the id, and that the bot is in the channel's server (${WHERE_THE_INVITE_IS})`,
  50001: `the bot cannot see this channel: add it to the channel's server (${WHERE_THE_INVITE_IS}) or give it View Channels there`,
  50013: 'the bot lacks a permission in this channel: it posts with Send Messages and Embed Links',
};

/** What a record says for a channel the bot cannot see, as describeDiscordError writes it (the API documents' example). */
export const UNKNOWN_CHANNEL_EXAMPLE = `Discord 404 (code 10003): Unknown Channel (${WHAT_TO_DO[10003]})`;

/**
 * A short, secret-free description of a Discord failure for records and logs, with what to do about the codes a new
 * setup meets; `hints` replaces that advice where the same code means something else (a guild refusing commands).
 */
export function describeDiscordError(error: unknown, hints: Partial<Record<number, string>> = {}): string {
  if (error instanceof DiscordAPIError) {
    const code = typeof error.code === 'number' ? error.code : undefined;
    const todo = (code !== undefined ? (hints[code] ?? WHAT_TO_DO[code]) : undefined) ?? (error.status === 401 ? TOKEN_REFUSED : undefined);
    return `Discord ${error.status} (code ${error.code}): ${error.message}${todo ? ` (${todo})` : ''}`;
  }
  if (error instanceof HTTPError) return `Discord HTTP ${error.status}: ${error.message}`;
  if (error instanceof RateLimitError) return `Discord rate limited ${error.route} for ${error.timeToReset} ms`;
  if (isTokenRefusal(error)) return TOKEN_REFUSED;
  return error instanceof Error ? error.message : String(error);
}
