// The team's backend as Herald's Discord bot sees it: an HTTP endpoint that takes message-image callbacks with
// `Authorization: Bearer <SYSTEM_TOKEN>`, records what it accepted, and can be switched down and up again.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
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

/** Which callbacks: those of one message, of one event, or both. */
export interface CallbackFilter {
  messageId?: string;
  event?: MessageImageCallback['event'];
}

function matching(filter: CallbackFilter): (callback: MessageImageCallback) => boolean {
  return (callback) => (!filter.messageId || callback.messageId === filter.messageId) && (!filter.event || callback.event === filter.event);
}

export type DownMode = 'refuse-connections' | 'answer-503';

export class BackendReceiver {
  /** Callbacks answered 204, in arrival order. */
  readonly accepted: ReceivedCallback[] = [];
  /** Requests refused (401 for a wrong token, 503 while down or `refuse`d). */
  refused = 0;
  private answer503 = false;
  /** Every answer waits this long (see `answerAfter`). */
  private answerDelayMs = 0;
  /** Which callbacks are refused while up, and with what status (see `refuse`). */
  private refusing: { matches: (callback: MessageImageCallback) => boolean; status: number } | null = null;
  /** Callbacks refused while up (see `refuse`), in arrival order. */
  readonly refusedCallbacks: MessageImageCallback[] = [];
  /** Callbacks answered only on `release()` (see `hold`). */
  private holding: ((callback: MessageImageCallback) => boolean) | null = null;
  /** Callbacks held unanswered (see `hold`), in arrival order; answered on `release()`. */
  readonly held: Array<() => void> = [];
  private readonly server = new RestartableServer((request, body, response) => {
    if (request.headers.authorization !== `Bearer ${this.token}` || this.answer503) {
      this.refused++;
      response.writeHead(this.answer503 ? 503 : 401).end();
      return;
    }
    const callback = JSON.parse(body.toString('utf8')) as MessageImageCallback;
    if (this.refusing?.matches(callback)) {
      const { status } = this.refusing;
      this.refused++;
      this.refusedCallbacks.push(callback);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status === 503 ? undefined : JSON.stringify({ error: `cannot take a ${callback.event} callback for this message` }));
      return;
    }
    if (this.holding?.(callback)) {
      this.held.push(() => this.accept(request.headers, callback, response));
      return;
    }
    if (this.answerDelayMs > 0) setTimeout(() => this.accept(request.headers, callback, response), this.answerDelayMs);
    else this.accept(request.headers, callback, response);
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
  callbacks(filter: CallbackFilter = {}): MessageImageCallback[] {
    return this.accepted.map((received) => received.body).filter(matching(filter));
  }

  /** Waits for an accepted callback matching `filter`; resolves with it. */
  async waitFor(filter: CallbackFilter, timeoutMs = 60_000): Promise<MessageImageCallback> {
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

  /**
   * Answers `status` to the callbacks matching `filter` and takes the rest: 503 as a backend does when one message's
   * handling fails for now (a lock held, a row being migrated), a 4xx such as 422 when it will never take it (a
   * message it does not know, a field it rejects). `null` takes everything again.
   */
  refuse(filter: CallbackFilter | null, status = 503): void {
    this.refusing = filter ? { matches: matching(filter), status } : null;
  }

  /**
   * Leaves the callbacks matching `filter` unanswered until `release()`, as a backend does when one request is stuck
   * (the rest are taken as usual). One Herald gave up on meanwhile (its timeout) is not recorded on release.
   */
  hold(filter: CallbackFilter): void {
    this.holding = matching(filter);
  }

  /** Takes every callback, answering each only after `ms` (a backend that is slow but well); 0 answers at once. */
  answerAfter(ms: number): void {
    this.answerDelayMs = ms;
  }

  /** Answers every held callback (204) and holds no more. */
  release(): void {
    this.holding = null;
    for (const answer of this.held.splice(0)) answer();
  }

  private accept(headers: IncomingHttpHeaders, body: MessageImageCallback, response: ServerResponse): void {
    if (response.destroyed) return;
    this.accepted.push({ headers, body, at: new Date() });
    response.writeHead(204).end();
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
