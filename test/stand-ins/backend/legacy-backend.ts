// The backend the render service called, as it took those calls: three routes under its base path, everything in
// the query string, no body, the system token in an `Authorize` header (no Bearer). It keeps the images it was told
// about by message link, so an update or delete of an image it never heard of is a 404, as a real lookup would be.
import type { IncomingHttpHeaders } from 'node:http';
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

export class LegacyBackend {
  /** Every request, in arrival order, with the status it got. */
  readonly calls: LegacyCall[] = [];
  /** Images it knows: message link → public URL of the image. */
  readonly images = new Map<string, string>();
  private failingWith: number | null = null;
  private readonly server = new RestartableServer((request, body, response) => {
    const url = new URL(request.url ?? '/', 'http://backend');
    const call: LegacyCall = {
      method: request.method ?? '',
      route: url.pathname.startsWith(LEGACY_BASE_PATH) ? url.pathname.slice(LEGACY_BASE_PATH.length) : url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      bodyBytes: body.length,
      status: this.answer(request.method ?? '', url, request.headers),
    };
    this.calls.push(call);
    response.writeHead(call.status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: call.status < 300 }));
  });

  private constructor(private readonly token: string) {}

  static async start(token: string): Promise<LegacyBackend> {
    const backend = new LegacyBackend(token);
    await backend.server.up();
    return backend;
  }

  /** What goes into BACKEND_URL: the routes are appended to it. */
  get url(): string {
    return `http://127.0.0.1:${this.server.listeningPort}${LEGACY_BASE_PATH}`;
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

  private answer(method: string, url: URL, headers: IncomingHttpHeaders): number {
    if (headers.authorize !== this.token) return 401;
    if (this.failingWith !== null) return this.failingWith;
    const route = url.pathname.slice(LEGACY_BASE_PATH.length);
    const query = url.searchParams;
    if (route === '/discord/images' && method === 'POST') {
      const [urn, guild, channel, link] = ['s3_urn', 'guild', 'channel', 'jump_url'].map((name) => query.get(name));
      if (!urn || !guild || !channel || !link) return 422;
      this.images.set(link, urn);
      return 200;
    }
    if (route === '/discord/images' && method === 'PUT') {
      const link = query.get('jump_url');
      if (!link) return 422;
      return this.images.has(link) ? 200 : 404;
    }
    if (route === '/discord/bot/images' && method === 'DELETE') {
      const link = query.get('message_link');
      if (!link) return 422;
      return this.images.delete(link) ? 200 : 404;
    }
    return 404;
  }
}
