// A webhook receiver that checks Herald's `X-Herald-Signature: sha256=<hex>` HMAC the way a real consumer would,
// records what it accepted, and can be told to answer errors or go down (connection refused) for a while.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RestartableServer } from './restartable-server';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  signatureValid: boolean;
}

export class HttpReceiver {
  /** Requests it answered 2xx to (the ones a consumer would have acted on). */
  readonly accepted: ReceivedRequest[] = [];
  /** Every request, including the ones it refused. */
  readonly all: ReceivedRequest[] = [];
  private failStatus: number | null = null;
  private readonly server = new RestartableServer((request, raw, response) => {
    const received: ReceivedRequest = {
      path: request.url ?? '/',
      headers: request.headers,
      rawBody: raw.toString('utf8'),
      body: safeParse(raw.toString('utf8')),
      signatureValid: this.verify(raw, request.headers['x-herald-signature']),
    };
    this.all.push(received);
    if (this.failStatus !== null) {
      response.writeHead(this.failStatus).end('failing on purpose');
      return;
    }
    if (!received.signatureValid) {
      response.writeHead(401).end('bad signature');
      return;
    }
    this.accepted.push(received);
    response.writeHead(204).end();
  });

  private constructor(private readonly secret: string) {}

  static async start(secret: string): Promise<HttpReceiver> {
    const receiver = new HttpReceiver(secret);
    await receiver.up();
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.server.listeningPort}${path}`;
  }

  /** Answer every request with `status` until `recover()`. */
  failWith(status: number): void {
    this.failStatus = status;
  }

  recover(): void {
    this.failStatus = null;
  }

  /** Stop listening (clients get connection refused); `up()` listens again on the same port. */
  async down(): Promise<void> {
    await this.server.down();
  }

  async up(): Promise<void> {
    await this.server.up();
  }

  async close(): Promise<void> {
    await this.down();
  }

  private verify(raw: Buffer, header: string | string[] | undefined): boolean {
    if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
    const expected = Buffer.from(createHmac('sha256', this.secret).update(raw).digest('hex'));
    const given = Buffer.from(header.slice('sha256='.length));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
