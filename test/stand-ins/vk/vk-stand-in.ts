// A local stand-in for api.vk.com and its Bots Long Poll server, answering as VK documents for API 5.199:
// groups.getLongPollServer, the a_check long-poll endpoint (held up to `wait` seconds), users.get and
// messages.getConversationsById. Tests drive it: push updates, make the next poll fail with failed:1/2/3,
// make a method answer a VK error (5, 6, 9, 10, ...), switch the community's Long Poll API off (error 100, as VK
// answers then), set its Long Poll settings (groups.getLongPollSettings), drop connections, and read request counters.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { VkConversation, VkUpdate, VkUser } from '../../../src/vk/vk-wire';
import { STAND_IN_GROUP_ID } from './vk-updates';

export interface VkStandInOptions {
  token?: string;
  groupId?: number;
  users?: VkUser[];
  conversations?: VkConversation[];
  /** Most updates in one long-poll answer (VK sends at most a few hundred). */
  batchLimit?: number;
  /** When set, API calls beyond this many per second answer error 6, as VK does. */
  rateLimitPerSecond?: number;
  /** Number of the first event (the `ts` a fresh server hands out). */
  firstTs?: number;
  /**
   * The community's Long Poll settings as groups.getLongPollSettings answers them: the API version its events use
   * (default 5.199) and the event types ticked (default every type Herald routes).
   */
  longPollApiVersion?: string;
  longPollEvents?: Record<string, 0 | 1>;
  /**
   * `false` is a community token without the right to manage the community (a token made for messages only):
   * groups.getLongPollServer and groups.getLongPollSettings answer error 15, as VK does. setTokenManages changes it.
   */
  tokenManages?: boolean;
}

const TICKED_BY_DEFAULT: Record<string, 0 | 1> = {
  message_new: 1,
  message_edit: 1,
  message_event: 1,
  message_reaction_event: 1,
  message_reply: 0,
  group_join: 0,
};

export interface PollRecord {
  key: string;
  ts: string;
  wait: number;
  /** What the stand-in answered: 'updates' (with how many), 'failed:N' or 'dropped'. */
  answer: string;
}

const ERROR_MESSAGES: Record<number, string> = {
  1: 'Unknown error occurred',
  5: 'User authorization failed: invalid access_token (4).',
  6: 'Too many requests per second',
  9: 'Flood control',
  10: 'Internal server error',
  15: 'Access denied: no access to call this method',
  100: 'One of the parameters specified was missing or invalid',
};

interface HeldPoll {
  res: ServerResponse;
  fromTs: number;
  timer: NodeJS.Timeout;
  record: PollRecord;
}

export class VkStandIn {
  readonly token: string;
  readonly groupId: number;
  /** Calls per API method. */
  readonly calls: Record<string, number> = {};
  /** Every user id asked of users.get, in order, one array per call. */
  readonly userLookups: number[][] = [];
  readonly polls: PollRecord[] = [];
  /** Values of the `v` parameter seen. */
  readonly versions = new Set<string>();

  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private readonly users = new Map<number, VkUser>();
  private readonly conversations = new Map<number, VkConversation>();
  private readonly log: { ts: number; update: VkUpdate }[] = [];
  private head: number;
  private validKey: string | null = null;
  private held: HeldPoll | null = null;
  private readonly pendingFailures: (1 | 2 | 3)[] = [];
  private pendingDrops = 0;
  private readonly methodErrors = new Map<string, { code: number; times: number }[]>();
  private tokenRevoked = false;
  private longPollOn = true;
  private readonly batchLimit: number;
  private readonly rateLimit: number | undefined;
  private callTimes: number[] = [];
  private readonly longPollSettings: { apiVersion: string; events: Record<string, 0 | 1> };
  private tokenManages: boolean;

  private constructor(options: VkStandInOptions) {
    this.longPollSettings = {
      apiVersion: options.longPollApiVersion ?? '5.199',
      events: { ...TICKED_BY_DEFAULT, ...options.longPollEvents },
    };
    this.tokenManages = options.tokenManages ?? true;
    this.token = options.token ?? 'vk-stand-in-token';
    this.groupId = options.groupId ?? STAND_IN_GROUP_ID;
    this.batchLimit = options.batchLimit ?? 100;
    this.rateLimit = options.rateLimitPerSecond;
    this.head = options.firstTs ?? 1;
    for (const user of options.users ?? []) this.users.set(user.id, user);
    for (const conversation of options.conversations ?? []) this.conversations.set(conversation.peer.id, conversation);
  }

  static async start(options: VkStandInOptions = {}): Promise<VkStandIn> {
    const standIn = new VkStandIn(options);
    await standIn.listen();
    return standIn;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Base URL for the VK API (what VK_API_URL is set to). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/method`;
  }

  /** The `ts` a new getLongPollServer call would hand out (the number of the next event). */
  get currentTs(): string {
    return String(this.head);
  }

  /** How many long-poll requests are being held open right now (0 or 1). */
  get heldPolls(): number {
    return this.held ? 1 : 0;
  }

  callsOf(method: string): number {
    return this.calls[method] ?? 0;
  }

  setUser(user: VkUser): void {
    this.users.set(user.id, user);
  }

  setConversation(conversation: VkConversation): void {
    this.conversations.set(conversation.peer.id, conversation);
  }

  /** Appends updates to the event log and answers a held poll with them. */
  push(...updates: VkUpdate[]): void {
    for (const update of updates) this.log.push({ ts: this.head++, update });
    this.answerHeld();
  }

  /**
   * The next long-poll answer (the held one, or the next request) is `{ failed: code }`.
   * failed:2 and failed:3 also invalidate the key, as VK does; `alsoPush` updates are appended to the log first,
   * so a client that wrongly takes the fresh `ts` from getLongPollServer after failed:2 would skip them.
   */
  failNextPoll(code: 1 | 2 | 3, alsoPush: VkUpdate[] = []): void {
    for (const update of alsoPush) this.log.push({ ts: this.head++, update });
    this.pendingFailures.push(code);
    if (code !== 1) this.validKey = null;
    this.answerHeld();
  }

  /** The next `count` long-poll requests have their connection destroyed (a network error for the client). */
  dropNextPolls(count: number): void {
    this.pendingDrops += count;
    if (this.held) {
      const held = this.held;
      this.held = null;
      clearTimeout(held.timer);
      this.pendingDrops -= 1;
      held.record.answer = 'dropped';
      held.res.socket?.destroy();
    }
  }

  /** The next `times` calls of `method` answer `{ error: { error_code: code } }`. */
  failMethod(method: string, code: number, times = 1): void {
    const queue = this.methodErrors.get(method) ?? [];
    queue.push({ code, times });
    this.methodErrors.set(method, queue);
  }

  /** Every API call answers error 5 from now on (until restoreToken). */
  revokeToken(): void {
    this.tokenRevoked = true;
    this.validKey = null;
  }

  restoreToken(): void {
    this.tokenRevoked = false;
  }

  /** Whether the token may manage the community (see VkStandInOptions.tokenManages). */
  setTokenManages(on: boolean): void {
    this.tokenManages = on;
  }

  /**
   * The community's Long Poll API switch (Manage → API usage → Long Poll API). Off, getLongPollServer answers error
   * 100 "…: longpoll for this group is not enabled", as VK does, and the key in use stops working (failed:2).
   */
  switchLongPoll(on: boolean): void {
    this.longPollOn = on;
    if (!on) this.failNextPoll(2);
  }

  async close(): Promise<void> {
    if (this.held) {
      clearTimeout(this.held.timer);
      this.held = null;
    }
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.route(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const params = new URLSearchParams(url.search);
    const body = await readBody(req);
    if (body) for (const [k, v] of new URLSearchParams(body)) params.set(k, v);

    if (url.pathname === `/lp/${this.groupId}`) return this.longPoll(params, res);
    const method = /^\/method\/([\w.]+)$/.exec(url.pathname)?.[1];
    if (!method) return json(res, 404, { error: 'not found' });
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    const version = params.get('v');
    if (version) this.versions.add(version);

    const injected = this.takeInjectedError(method);
    if (injected !== null) return apiError(res, injected, method, params);
    if (this.tokenRevoked || params.get('access_token') !== this.token) return apiError(res, 5, method, params);
    if (this.overRateLimit()) return apiError(res, 6, method, params);

    switch (method) {
      case 'groups.getLongPollServer':
        return this.getLongPollServer(params, res);
      case 'groups.getLongPollSettings':
        if (!this.mayManage(params)) return this.refuseCommunity(params, method, res);
        return json(res, 200, {
          response: { is_enabled: this.longPollOn, api_version: this.longPollSettings.apiVersion, events: this.longPollSettings.events },
        });
      case 'users.get':
        return this.usersGet(params, res);
      case 'messages.getConversationsById':
        return this.getConversationsById(params, res);
      default:
        return apiError(res, 3, method, params);
    }
  }

  /**
   * Keeps the next getLongPollServer calls unanswered until the returned function is called (VK slow to hand out a
   * key); resolves `asked` once one is waiting.
   */
  holdLongPollServer(): { asked: Promise<void>; release(): void } {
    let asked!: () => void;
    const waiting = new Promise<void>((resolve) => (asked = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.keyHold = { asked, released };
    return {
      asked: waiting,
      release: () => {
        this.keyHold = null;
        release();
      },
    };
  }

  private keyHold: { asked: () => void; released: Promise<void> } | null = null;

  private mayManage(params: URLSearchParams): boolean {
    return Number(params.get('group_id')) === this.groupId && this.tokenManages;
  }

  /**
   * As VK answers a community token asked about a community: error 15 for another community's id or a token without
   * the right to manage, error 100 for a group_id that is no id at all.
   */
  private refuseCommunity(params: URLSearchParams, method: string, res: ServerResponse): void {
    const groupId = Number(params.get('group_id'));
    if (!Number.isInteger(groupId) || groupId <= 0) return apiError(res, 100, method, params, `${ERROR_MESSAGES[100]}: group_id is undefined`);
    apiError(res, 15, method, params);
  }

  private getLongPollServer(params: URLSearchParams, res: ServerResponse): void {
    if (this.keyHold) {
      const hold = this.keyHold;
      hold.asked();
      void hold.released.then(() => this.getLongPollServer(params, res));
      return;
    }
    if (!this.mayManage(params)) return this.refuseCommunity(params, 'groups.getLongPollServer', res);
    if (!this.longPollOn) {
      return apiError(res, 100, 'groups.getLongPollServer', params, `${ERROR_MESSAGES[100]}: longpoll for this group is not enabled`);
    }
    // Each call hands out a new key and invalidates the previous one: a second poller steals the first one's key.
    this.validKey = randomBytes(20).toString('hex');
    json(res, 200, {
      response: { key: this.validKey, server: `http://127.0.0.1:${this.port}/lp/${this.groupId}`, ts: this.currentTs },
    });
  }

  private usersGet(params: URLSearchParams, res: ServerResponse): void {
    const ids = splitIds(params.get('user_ids'));
    this.userLookups.push(ids);
    const withScreenName = (params.get('fields') ?? '').split(',').includes('screen_name');
    const found = ids.flatMap((id) => {
      const user = this.users.get(id);
      if (!user) return [];
      const { screen_name, ...rest } = user;
      return [{ ...rest, can_access_closed: true, is_closed: false, ...(withScreenName ? { screen_name } : {}) }];
    });
    json(res, 200, { response: found });
  }

  private getConversationsById(params: URLSearchParams, res: ServerResponse): void {
    const items = splitIds(params.get('peer_ids')).flatMap((id) => {
      const conversation = this.conversations.get(id);
      return conversation ? [{ ...conversation, can_write: { allowed: true }, in_read: 0, out_read: 0 }] : [];
    });
    json(res, 200, { response: { count: items.length, items } });
  }

  private longPoll(params: URLSearchParams, res: ServerResponse): void {
    const record: PollRecord = {
      key: params.get('key') ?? '',
      ts: params.get('ts') ?? '',
      wait: Number(params.get('wait') ?? 25),
      answer: 'pending',
    };
    this.polls.push(record);
    if (params.get('act') !== 'a_check') return json(res, 400, { error: 'act must be a_check' });

    if (this.pendingDrops > 0) {
      this.pendingDrops -= 1;
      record.answer = 'dropped';
      res.socket?.destroy();
      return;
    }
    const failure = this.pendingFailures.shift();
    if (failure !== undefined) return this.answerFailure(res, record, failure, Number(record.ts));
    if (record.key !== this.validKey) return this.answerFailure(res, record, 2, Number(record.ts));

    const fromTs = Number(record.ts);
    if (this.held) this.answerHeld(true); // VK serves one poll at a time: the older one is answered empty
    const waitMs = Math.min(Math.max(record.wait, 0), 90) * 1000;
    this.held = {
      res,
      fromTs,
      record,
      timer: setTimeout(() => this.answerHeld(true), waitMs),
    };
    this.answerHeld();
  }

  private answerFailure(res: ServerResponse, record: PollRecord, code: 1 | 2 | 3, requestedTs: number): void {
    record.answer = `failed:${code}`;
    // failed:1 carries the ts to continue from; the history is intact here, so it is the one asked for.
    json(res, 200, code === 1 ? { failed: 1, ts: String(Number.isFinite(requestedTs) ? requestedTs : this.head) } : { failed: code });
  }

  private answerHeld(timedOut = false): void {
    const held = this.held;
    if (!held) return;
    const failure = this.pendingFailures.shift();
    if (failure !== undefined) {
      this.held = null;
      clearTimeout(held.timer);
      return this.answerFailure(held.res, held.record, failure, held.fromTs);
    }
    // Event numbers are contiguous, so the first one at or after fromTs sits at a known index.
    const start = this.log.length === 0 ? 0 : Math.max(0, held.fromTs - this.log[0].ts);
    const updates = this.log.slice(start, start + this.batchLimit);
    if (updates.length === 0 && !timedOut) return;
    this.held = null;
    clearTimeout(held.timer);
    const nextTs = updates.length ? updates[updates.length - 1].ts + 1 : Math.max(held.fromTs, 0);
    held.record.answer = `updates:${updates.length}`;
    json(held.res, 200, { ts: String(nextTs), updates: updates.map((entry) => entry.update) });
  }

  private takeInjectedError(method: string): number | null {
    const queue = this.methodErrors.get(method);
    const next = queue?.[0];
    if (!queue || !next) return null;
    next.times -= 1;
    if (next.times <= 0) queue.shift();
    return next.code;
  }

  private overRateLimit(): boolean {
    if (this.rateLimit === undefined) return false;
    const now = Date.now();
    this.callTimes = this.callTimes.filter((t) => now - t < 1000);
    this.callTimes.push(now);
    return this.callTimes.length > this.rateLimit;
  }
}

function splitIds(value: string | null): number[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function apiError(res: ServerResponse, code: number, method: string, params: URLSearchParams, message?: string): void {
  json(res, 200, {
    error: {
      error_code: code,
      error_msg: message ?? ERROR_MESSAGES[code] ?? 'Error',
      request_params: [
        { key: 'method', value: method },
        { key: 'oauth', value: '1' },
        ...[...params.entries()].filter(([k]) => k !== 'access_token').map(([key, value]) => ({ key, value })),
      ],
    },
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
