// The team's backend as Herald's Discord bot sees it: an HTTP endpoint that takes message-image callbacks with
// `Authorization: Bearer <SYSTEM_TOKEN>`, records what it accepted, and can be switched down and up again.
import type { IncomingHttpHeaders } from 'node:http';
import { RestartableServer } from '../http-receiver/restartable-server';

/** The callback contract, declared here on the receiving side so the test checks Herald against it. */
export interface MessageImageCallback {
  event: 'created' | 'updated' | 'deleted';
  idempotencyKey: string;
  guildId: string;
  channelId: string;
  messageId: string;
  authorId: string;
  guildName: string | null;
  channelName: string | null;
  /** Discord's message link. */
  jumpUrl: string;
  urn: string | null;
  /** The public URL of the image, when Herald has S3_PUBLIC_URL. */
  url?: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

export interface ReceivedCallback {
  headers: IncomingHttpHeaders;
  body: MessageImageCallback;
  at: Date;
}

export type DownMode = 'refuse-connections' | 'answer-503';

export class BackendReceiver {
  /** Callbacks answered 204, in arrival order. */
  readonly accepted: ReceivedCallback[] = [];
  /** Requests refused (401 for a wrong token, 503 while down). */
  refused = 0;
  private answer503 = false;
  private readonly server = new RestartableServer((request, body, response) => {
    if (request.headers.authorization !== `Bearer ${this.token}` || this.answer503) {
      this.refused++;
      response.writeHead(this.answer503 ? 503 : 401).end();
      return;
    }
    this.accepted.push({ headers: request.headers, body: JSON.parse(body.toString('utf8')) as MessageImageCallback, at: new Date() });
    response.writeHead(204).end();
  });

  private constructor(private readonly token: string) {}

  static async start(token: string): Promise<BackendReceiver> {
    const receiver = new BackendReceiver(token);
    await receiver.server.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.listeningPort}/herald/discord-images`;
  }

  /** Accepted callbacks, optionally only those of one message or one event. */
  callbacks(filter: { messageId?: string; event?: MessageImageCallback['event'] } = {}): MessageImageCallback[] {
    return this.accepted
      .map((received) => received.body)
      .filter((body) => (!filter.messageId || body.messageId === filter.messageId) && (!filter.event || body.event === filter.event));
  }

  /** Waits for an accepted callback matching `filter`; resolves with it. */
  async waitFor(filter: { messageId?: string; event?: MessageImageCallback['event'] }, timeoutMs = 60_000): Promise<MessageImageCallback> {
    return this.waitUntil(() => this.callbacks(filter)[0], `a ${filter.event ?? ''} callback for ${filter.messageId ?? 'any message'}`, timeoutMs);
  }

  async waitUntil<T>(probe: () => T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined && found !== false) return found;
      if (Date.now() > deadline) throw new Error(`backend receiver: gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Goes down: connections refused (the process is gone) or 503 answers (it is up but failing). */
  async down(mode: DownMode = 'refuse-connections'): Promise<void> {
    if (mode === 'answer-503') {
      this.answer503 = true;
      return;
    }
    await this.server.down();
  }

  async up(): Promise<void> {
    this.answer503 = false;
    await this.server.up();
  }

  async stop(): Promise<void> {
    await this.down('refuse-connections');
  }
}
