import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { telemetry } from '../telemetry/telemetry';
import type { InlineImage } from '../render/discord-message.view';
import { FetchRefused, fetchWithinLimits, hostAllowed } from '../common/limited-fetch';
import { LruCache } from './lru-cache';

const fetches = telemetry.counter('herald_render_image_fetches_total', 'Pictures fetched for renders, by outcome', ['outcome']);

/** Magic numbers of the raster formats the page may draw; the response's Content-Type is not trusted. */
function sniffImageType(bytes: Buffer): string | null {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 6 && bytes.toString('latin1', 0, 4) === 'GIF8') return 'image/gif';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (bytes.length >= 12 && bytes.toString('latin1', 4, 8) === 'ftyp' && /^avi[fs]$/.test(bytes.toString('latin1', 8, 12))) return 'image/avif';
  return null;
}

/**
 * Fetches the pictures a render needs (avatars, custom emoji, attachments, embed images) on the server side, so
 * the page never touches the network. Only allowlisted hosts, bounded in time and size; any failure is a
 * placeholder (null), never an error.
 */
@Injectable()
export class ImageFetcher {
  private readonly logger = new Logger(ImageFetcher.name);
  // Avatars and emoji repeat from message to message: keep recent pictures in memory.
  private readonly cache = new LruCache<string>(512, 64 * 1024 * 1024, (dataUrl) => dataUrl.length);
  private readonly inFlight = new Map<string, Promise<InlineImage>>();

  private readonly discordCdnHost: string | null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.discordCdnHost = config.discord?.cdnUrl ? new URL(config.discord.cdnUrl).host.toLowerCase() : null;
  }

  /**
   * The allowlist holds host names (`cdn.discordapp.com`), `host:port` pairs, or `*.suffix` wildcards; the host of
   * DISCORD_CDN_URL is always allowed, since avatar and emoji URLs are built from it.
   */
  isAllowed(url: URL): boolean {
    if (this.discordCdnHost === url.host.toLowerCase() && (url.protocol === 'https:' || url.protocol === 'http:')) return true;
    return hostAllowed(url, this.config.render.fetchAllowlist);
  }

  async fetchInline(source: string | null | undefined): Promise<InlineImage> {
    if (!source) return null;
    const cached = this.cache.get(source);
    if (cached) {
      fetches.inc({ outcome: 'cached' });
      return cached;
    }
    const pending = this.inFlight.get(source);
    if (pending) return pending;
    const fetching = this.download(source).finally(() => this.inFlight.delete(source));
    this.inFlight.set(source, fetching);
    return fetching;
  }

  private async download(source: string): Promise<InlineImage> {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      fetches.inc({ outcome: 'refused' });
      return null;
    }
    const signal = AbortSignal.timeout(this.config.render.fetchTimeoutMs);
    try {
      const { bytes } = await fetchWithinLimits(url, {
        isAllowed: (hop) => this.isAllowed(hop),
        allowlistSetting: 'RENDER_FETCH_ALLOWLIST',
        maxBytes: this.config.render.fetchMaxBytes,
        maxBytesSetting: 'RENDER_FETCH_MAX_BYTES',
        signal,
        headers: { accept: 'image/*' },
      });
      const type = sniffImageType(bytes);
      if (!type) throw new FetchRefused('not a PNG, JPEG, GIF, WebP or AVIF picture');
      const dataUrl = `data:${type};base64,${bytes.toString('base64')}`;
      this.cache.set(source, dataUrl);
      fetches.inc({ outcome: 'fetched' });
      return dataUrl;
    } catch (error) {
      const refused = error instanceof FetchRefused;
      fetches.inc({ outcome: refused ? 'refused' : 'failed' });
      // Host and path only: Discord attachment URLs carry signed query parameters.
      this.logger.warn(
        { host: url.host, path: url.pathname.slice(0, 120), reason: (error as Error).message },
        'Picture not fetched; drawing a placeholder',
      );
      return null;
    }
  }
}
