import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ObjectStorage } from '../storage/object-storage';
import { settleWithin } from '../common/timeouts';
import type { DiscordConversationInput, DiscordMessageInput, TimestampStyle } from './discord-message.input';
import { fetchMessageImages } from './discord-message.images';
import { type NormalisedDiscordMessage, normaliseDiscordConversation, normaliseDiscordMessage, normaliseScale } from './discord-message.normaliser';
import type { DiscordMessageView, ImageUrl, InlineImage } from './discord-message.view';
import { ImageFetcher } from '../browser/image-fetcher';
import { LruCache } from '../browser/lru-cache';
import { type RenderedImage, TemplateRenderer, renderStepSeconds } from '../browser/template-renderer';

export const DISCORD_MESSAGE_TEMPLATE = 'discord-message';

export interface CachedRender extends RenderedImage {
  /** Content address: sha256 of template, template version and normalised input. */
  hash: string;
  /** Where the image is (or will be) kept in S3: `render/<hash>.png`. */
  key: string;
}

export interface StoredRender {
  urn: string;
  /** The public URL, when S3_PUBLIC_URL is set. */
  url?: string;
  key: string;
  bytes: number;
  width: number;
  height: number;
}

const cacheLookups = telemetry.counter('herald_render_cache_total', 'Render cache lookups by where the image came from', ['template', 'source']);
/** Render services whose cache the scrape reports (one per process in production; tests may run several). */
const liveServices = new Set<RenderService>();
telemetry.collected('herald_render_cache_bytes', 'Bytes of PNG held by the in-process render cache (at most 64 MiB)', [], (gauge) => {
  gauge.set([...liveServices].reduce((bytes, service) => bytes + service.cachedBytes, 0));
  return Promise.resolve();
});

/** Fetching a render's pictures, timed as the `images` step of herald_render_step_seconds. */
async function timedImages<T>(fetch: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const fetched = await fetch();
  renderStepSeconds.observe({ template: DISCORD_MESSAGE_TEMPLATE, step: 'images' }, Number(process.hrtime.bigint() - started) / 1e9);
  return fetched;
}

/** Width and height from a PNG's IHDR chunk (bytes 16–23), for images that come back from the cache. */
function pngSize(png: Buffer): { width: number; height: number } {
  return png.length >= 24 ? { width: png.readUInt32BE(16), height: png.readUInt32BE(20) } : { width: 0, height: 0 };
}

/**
 * Renders Discord messages to PNG with the discord-message template. Identical input renders once: results are
 * addressed by a hash of template version and normalised input, kept in a small in-process LRU and in S3 under
 * `render/<hash>.png`; concurrent identical requests share one render.
 */
@Injectable()
export class RenderService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RenderService.name);
  private readonly memory = new LruCache<RenderedImage>(256, 64 * 1024 * 1024, (image) => image.png.length);
  private readonly inFlight = new Map<string, Promise<CachedRender & { fromStorage: boolean }>>();
  private readonly writes = new Map<string, Promise<unknown>>();
  /** Keys known to be in S3 already, so `store` doesn't write them again. */
  private readonly stored = new LruCache<true>(4096, Number.MAX_SAFE_INTEGER, () => 1);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly renderer: TemplateRenderer,
    private readonly images: ImageFetcher,
    private readonly storage: ObjectStorage,
  ) {}

  /** Registered while modules initialise, so the pool's pages are warm with it from the start. */
  onModuleInit(): void {
    this.renderer.registerTemplate(DISCORD_MESSAGE_TEMPLATE);
    liveServices.add(this);
  }

  /** What the in-process cache holds, in bytes of PNG. */
  get cachedBytes(): number {
    return this.memory.bytes;
  }

  /**
   * The message as a PNG, the way the Discord client shows it, for a caller that stores it under a key of its own (the
   * bot): no cache is looked up or written. The bot draws each message version once, so its images would only fill
   * the in-process cache (up to 64 MiB of PNGs no one reads again) and push out the HTTP API's.
   */
  async renderDiscordMessage(input: DiscordMessageInput, defaults: { timestampStyle?: TimestampStyle } = {}): Promise<Buffer> {
    const message = normaliseDiscordMessage(input, { now: new Date(), cdnUrl: this.config.discord.cdnUrl, ...defaults });
    cacheLookups.inc({ template: DISCORD_MESSAGE_TEMPLATE, source: 'uncached' });
    return (await this.renderer.render(DISCORD_MESSAGE_TEMPLATE, await this.messageView(message), normaliseScale(input.scale))).png;
  }

  /** Renders (or finds) the message and makes sure it is in S3. */
  async storeDiscordMessage(input: DiscordMessageInput): Promise<StoredRender> {
    return this.persist(await this.discordMessage(input));
  }

  /**
   * The cached render of a message: image, size and its S3 key. `defaults.timestampStyle` is the header's time form
   * when the input names none (the HTTP API: calendar, as the client; the bot: DISCORD_RENDER_TIMESTAMPS).
   */
  async discordMessage(
    input: DiscordMessageInput,
    defaults: { timestampStyle?: TimestampStyle } = {},
  ): Promise<CachedRender & { fromStorage: boolean }> {
    const message = normaliseDiscordMessage(input, { now: new Date(), cdnUrl: this.config.discord.cdnUrl, ...defaults });
    return this.cached(DISCORD_MESSAGE_TEMPLATE, message, normaliseScale(input.scale), () => this.messageView(message));
  }

  /** The message with its pictures fetched, as the template takes it. */
  private messageView(message: NormalisedDiscordMessage): Promise<DiscordMessageView> {
    return timedImages(() => fetchMessageImages(message, this.fetchOncePerRender()));
  }

  /** Several messages as one picture, grouped as the client lists them (see normaliseDiscordConversation). */
  async discordConversation(input: DiscordConversationInput): Promise<CachedRender & { fromStorage: boolean }> {
    const conversation = normaliseDiscordConversation(input, { now: new Date(), cdnUrl: this.config.discord.cdnUrl });
    return this.cached(DISCORD_MESSAGE_TEMPLATE, conversation, normaliseScale(input.scale), () =>
      timedImages(async () => {
        const fetch = this.fetchOncePerRender();
        const messages = await Promise.all(
          conversation.messages.map(async (item) => {
            // Each message is fetched as a single one (the look fields only ride along), then put back in the list.
            const { grouped, dateSeparator, newMessages, ...message } = item;
            const look = { width: conversation.width, theme: conversation.theme, locale: conversation.locale, timeZone: conversation.timeZone };
            const { width: _w, theme: _t, locale: _l, timeZone: _z, ...view } = await fetchMessageImages({ ...message, ...look }, fetch);
            return { ...view, grouped, dateSeparator, newMessages };
          }),
        );
        return { ...conversation, messages };
      }),
    );
  }

  async storeDiscordConversation(input: DiscordConversationInput): Promise<StoredRender> {
    return this.persist(await this.discordConversation(input));
  }

  /** A fetch that asks for each picture once per render: a conversation shows the same avatars many times. */
  private fetchOncePerRender(): (source: ImageUrl) => Promise<InlineImage> {
    const seen = new Map<string, Promise<InlineImage>>();
    return (source) => {
      if (!source) return this.images.fetchInline(source);
      let pending = seen.get(source);
      if (!pending) {
        pending = this.images.fetchInline(source);
        seen.set(source, pending);
      }
      return pending;
    };
  }

  /** Puts a render into S3 (once per key) and answers where it is. */
  async persist(render: CachedRender & { fromStorage?: boolean }): Promise<StoredRender> {
    if (!render.fromStorage && !this.stored.get(render.key)) await this.write(render.key, render.png);
    return { ...this.storage.locate(render.key), key: render.key, bytes: render.png.length, width: render.width, height: render.height };
  }

  async onModuleDestroy(): Promise<void> {
    liveServices.delete(this);
    // Let background cache writes finish so a restart doesn't lose them.
    await settleWithin(Promise.allSettled([...this.writes.values()]), 5000);
  }

  private cacheHash(template: string, input: unknown, scale: number): string {
    return createHash('sha256')
      .update(`${template}@${this.renderer.version(template)}\n`)
      .update(scale === 1 ? '' : `scale=${scale}\n`)
      .update(JSON.stringify(input))
      .digest('hex');
  }

  private cached(template: string, identity: unknown, scale: number, view: () => Promise<unknown>): Promise<CachedRender & { fromStorage: boolean }> {
    const hash = this.cacheHash(template, identity, scale);
    const key = `render/${hash}.png`;
    const remembered = this.memory.get(hash);
    if (remembered) {
      cacheLookups.inc({ template, source: 'memory' });
      return Promise.resolve({ ...remembered, hash, key, fromStorage: false });
    }
    let pending = this.inFlight.get(hash);
    if (!pending) {
      pending = this.lookUpOrRender(template, hash, key, scale, view).finally(() => this.inFlight.delete(hash));
      this.inFlight.set(hash, pending);
    }
    return pending;
  }

  private async lookUpOrRender(
    template: string,
    hash: string,
    key: string,
    scale: number,
    view: () => Promise<unknown>,
  ): Promise<CachedRender & { fromStorage: boolean }> {
    const fromStorage = await this.storage.get(key).catch((error: Error) => {
      // The S3 copy is only a cache: when S3 is down we render anyway.
      this.logger.warn({ key, reason: error.message }, 'Render cache lookup in S3 failed; rendering');
      return null;
    });
    if (fromStorage) {
      cacheLookups.inc({ template, source: 's3' });
      const image = { png: fromStorage, ...pngSize(fromStorage) };
      this.memory.set(hash, image);
      this.stored.set(key, true);
      return { ...image, hash, key, fromStorage: true };
    }
    cacheLookups.inc({ template, source: 'rendered' });
    const image = await this.renderer.render(template, await view(), scale);
    this.memory.set(hash, image);
    this.write(key, image.png).catch((error: Error) => this.logger.warn({ key, reason: error.message }, 'Could not keep a render in S3'));
    return { ...image, hash, key, fromStorage: false };
  }

  private write(key: string, png: Buffer): Promise<unknown> {
    let write = this.writes.get(key);
    if (!write) {
      write = this.storage
        .put(key, png, 'image/png')
        .then(() => this.stored.set(key, true))
        .finally(() => this.writes.delete(key));
      this.writes.set(key, write);
    }
    return write;
  }
}
