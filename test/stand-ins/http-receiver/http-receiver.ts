// A webhook receiver that checks Herald's `X-Herald-Signature: sha256=<hex>` HMAC the way a real consumer would,
// records what it accepted, and can be told to answer errors or go down (connection refused) for a while.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private failStatus: number | null = null;
  private port = 0;

  private constructor(private readonly secret: string) {}

  static async start(secret: string): Promise<HttpReceiver> {
    const receiver = new HttpReceiver(secret);
    await receiver.up();
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
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
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const received: ReceivedRequest = {
          path: req.url ?? '/',
          headers: req.headers,
          rawBody: raw.toString('utf8'),
          body: safeParse(raw.toString('utf8')),
          signatureValid: this.verify(raw, req.headers['x-herald-signature']),
        };
        this.all.push(received);
        if (this.failStatus !== null) {
          res.writeHead(this.failStatus).end('failing on purpose');
          return;
        }
        if (!received.signatureValid) {
          res.writeHead(401).end('bad signature');
          return;
        }
        this.accepted.push(received);
        res.writeHead(204).end();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
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
