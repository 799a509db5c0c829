// The backend the render service called, as it took those calls: three routes under its base path, everything in
// the query string, no body, the system token in an `Authorize` header (no Bearer). As the real one does, it keeps the
// 3 newest images of each guild and channel (a POST drops the oldest, and deletes its object by cutting bucket and key
// out of its s3_urn), answers every PUT with the right token 200, and answers a DELETE 404 ("Image does not exist in
// attached chennels") unless the message is still kept and its channel is shown on a screen (attachScreen).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { RestartableServer } from '../http-receiver/restartable-server';

export interface LegacyCall {
  method: string;
  /** The path after the base path, e.g. /discord/images */
  route: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  /** What the backend answered. */
  status: number;
}

export const LEGACY_BASE_PATH = '/render-backend';

/** A row of the backend's `Discord` table. */
interface KeptImage {
  link: string;
  guild: string;
  channel: string;
  urn: string;
}

/** What the backend does with an S3 object it drops: `delete_s3_object(url)`, given the bucket and key it cut out. */
export type DeleteS3Object = (bucket: string, key: string) => Promise<void>;

/** The backend's `delete_s3_object`: `bucket = url.split('//')[1].split('.')[0]`, `key = url.split('.com')[1][1:]`. */
export function renderBackendObjectOf(url: string): { bucket: string; key: string } {
  return { bucket: url.split('//')[1].split('.')[0], key: (url.split('.com')[1] ?? '').slice(1) };
}

export class LegacyBackend {
  /** Every request, in arrival order, with the status it got. */
  readonly calls: LegacyCall[] = [];
  /** Images it keeps, oldest first (at most 3 per guild and channel). */
  private readonly kept: KeptImage[] = [];
  /** Guild and channel name pairs shown on one of its screens (its `DiscordScreen` table). */
  private readonly screens = new Set<string>();
  /** Objects it asked S3 to delete, as it cut them out of s3_urn, oldest first. */
  readonly deletedObjects: Array<{ bucket: string; key: string }> = [];
  private failingWith: number | null = null;
  private readonly server = new RestartableServer((request, body, response) => void this.respond(request, body, response));

  private constructor(
    private readonly token: string,
    private readonly deleteS3Object?: DeleteS3Object,
  ) {}

  /** `deleteS3Object`: how its deletes reach S3 (none without it; they are still recorded in `deletedObjects`). */
  static async start(token: string, deleteS3Object?: DeleteS3Object): Promise<LegacyBackend> {
    const backend = new LegacyBackend(token, deleteS3Object);
    await backend.server.up();
    return backend;
  }

  /** What goes into BACKEND_URL: the routes are appended to it. */
  get url(): string {
    return `http://127.0.0.1:${this.server.listeningPort}${LEGACY_BASE_PATH}`;
  }

  /** Shows a channel on a screen: its kept images can be deleted from now on (a DELETE of another is a 404). */
  attachScreen(guild: string, channel: string): void {
    this.screens.add(`${guild}\u0000${channel}`);
  }

  /** Message links of the images it keeps. */
  keptLinks(): string[] {
    return this.kept.map((image) => image.link);
  }

  /** Calls that were answered 2xx. */
  accepted(): LegacyCall[] {
    return this.calls.filter((call) => call.status < 300);
  }

  async waitUntil<T>(probe: () => T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined && found !== false) return found;
      if (Date.now() > deadline) throw new Error(`legacy backend: gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Answers every call with `status` (e.g. 503 while it is failing) until `recover()`. */
  failWith(status: number): void {
    this.failingWith = status;
  }

  recover(): void {
    this.failingWith = null;
  }

  async stop(): Promise<void> {
    await this.server.down();
  }

  private async respond(request: IncomingMessage, body: Buffer, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://backend');
    const call: LegacyCall = {
      method: request.method ?? '',
      route: url.pathname.startsWith(LEGACY_BASE_PATH) ? url.pathname.slice(LEGACY_BASE_PATH.length) : url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      bodyBytes: body.length,
      // Its S3 delete failing is an unhandled exception there: 500.
      status: await this.answer(request.method ?? '', url, request.headers).catch(() => 500),
    };
    this.calls.push(call);
    const detail = call.status === 404 && call.route === '/discord/bot/images' ? 'Image does not exist in attached chennels' : null;
    response.writeHead(call.status, { 'content-type': 'application/json' }).end(JSON.stringify(detail ? { detail } : null));
  }

  private async answer(method: string, url: URL, headers: IncomingHttpHeaders): Promise<number> {
    // FastAPI: a missing header or query parameter is 422 before the handler runs; a wrong token is 401.
    if (headers.authorize === undefined) return 403;
    if (headers.authorize !== this.token) return 401;
    if (this.failingWith !== null) return this.failingWith;
    const route = url.pathname.slice(LEGACY_BASE_PATH.length);
    const query = url.searchParams;
    if (route === '/discord/images' && method === 'POST') {
      const [urn, guild, channel, link] = ['s3_urn', 'guild', 'channel', 'jump_url'].map((name) => query.get(name));
      if (urn === null || guild === null || channel === null || link === null) return 422;
      const ofChannel = this.kept.filter((image) => image.guild === guild && image.channel === channel);
      if (ofChannel.length >= 3) {
        const oldest = ofChannel[0];
        this.kept.splice(this.kept.indexOf(oldest), 1);
        await this.deleteObject(oldest.urn);
      }
      this.kept.push({ link, guild, channel, urn });
      return 200;
    }
    if (route === '/discord/images' && method === 'PUT') {
      // It tells the screens showing the image, if any; the answer is 200 whether it keeps the image or not.
      return query.get('jump_url') === null ? 422 : 200;
    }
    if (route === '/discord/bot/images' && method === 'DELETE') {
      const link = query.get('message_link');
      if (link === null) return 422;
      const shown = this.kept.filter((image) => image.link === link && this.screens.has(`${image.guild}\u0000${image.channel}`));
      if (shown.length === 0) return 404;
      for (const image of this.kept.filter((kept) => kept.link === link)) this.kept.splice(this.kept.indexOf(image), 1);
      for (const image of shown) await this.deleteObject(image.urn);
      return 200;
    }
    return 404;
  }

  private async deleteObject(urn: string): Promise<void> {
    const object = renderBackendObjectOf(urn);
    this.deletedObjects.push(object);
    await this.deleteS3Object?.(object.bucket, object.key);
  }
}
