import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  ApplicationFlags,
  GatewayCloseCodes,
  GatewayDispatchEvents,
  GatewayIntentBits,
  GatewayOpcodes,
  type GatewayDispatchPayload,
  type GatewayPresenceUpdateData,
  type GatewayRequestGuildMembersData,
  type GatewaySendPayload,
} from 'discord-api-types/v10';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { GuildModel } from './guild-fixture';

/** A presence the bot asked for, from IDENTIFY or from a PRESENCE_UPDATE (op 3). */
export interface RecordedPresence extends GatewayPresenceUpdateData {
  sessionId: string;
  source: 'identify' | 'presence-update';
  receivedAt: Date;
}

export interface GatewayOptions {
  token: string;
  /** The first guild; the bot and application come from it. */
  model: GuildModel;
  /** Every guild the bot is in, the first included; each shard is told only of its own. */
  guilds: GuildModel[];
  heartbeatIntervalMs: number;
  privilegedIntents: PrivilegedIntents;
  /** ws://host:port/gateway — also sent as resume_gateway_url. */
  url: () => string;
}

interface Session {
  id: string;
  /** IDENTIFY's shard: [shard_id, num_shards]. */
  shard: [number, number];
  intents: number;
  seq: number;
  socket: WebSocket | null;
  /** Dispatches kept for RESUME, newest last. */
  sent: GatewayDispatchPayload[];
}

const REPLAY_LIMIT = 1000;

/** The shard Discord sends a guild's events to: (guild_id >> 22) % num_shards. */
export function shardOfGuild(guildId: string, numShards: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(numShards));
}
/** The privileged intents switched on for the bot in the developer portal (Bot → Privileged Gateway Intents). */
export interface PrivilegedIntents {
  messageContent: boolean;
  guildMembers: boolean;
}

/** A verified-less bot's application flags: the "limited" flag of each privileged intent switched on. */
export function applicationFlags(enabled: PrivilegedIntents): number {
  return (
    (enabled.messageContent ? ApplicationFlags.GatewayMessageContentLimited : 0) |
    (enabled.guildMembers ? ApplicationFlags.GatewayGuildMembersLimited : 0)
  );
}

/** What IDENTIFY may ask for: Discord closes with 4014 for a privileged intent the portal has not switched on. */
function disallowedIntents(intents: number, enabled: PrivilegedIntents): boolean {
  const asks = (intent: GatewayIntentBits) => (intents & intent) !== 0;
  return (
    (asks(GatewayIntentBits.MessageContent) && !enabled.messageContent) ||
    (asks(GatewayIntentBits.GuildMembers) && !enabled.guildMembers) ||
    asks(GatewayIntentBits.GuildPresences)
  );
}
const SUPPORTED_VERSION = '10';

/**
 * The gateway side of the stand-in: speaks Discord's gateway protocol v10 with JSON and no compression, as
 * @discordjs/ws does when zlib-sync is not installed.
 */
export class StandInGateway {
  readonly presences: RecordedPresence[] = [];
  /** Every IDENTIFY's shard, in order. */
  readonly identifiedShards: Array<[number, number]> = [];
  identifyCount = 0;
  resumeCount = 0;
  private readonly sessions = new Map<string, Session>();
  private readonly sockets = new Set<WebSocket>();
  private readonly server = new WebSocketServer({ noServer: true });
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: GatewayOptions) {
    this.server.on('connection', (socket: WebSocket, request: IncomingMessage) => this.accept(socket, request));
  }

  switchPrivilegedIntents(change: Partial<PrivilegedIntents>): void {
    Object.assign(this.options.privilegedIntents, change);
  }

  get applicationFlags(): number {
    return applicationFlags(this.options.privilegedIntents);
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.server.handleUpgrade(request, socket, head, (ws) => this.server.emit('connection', ws, request));
  }

  /** Identified sessions whose socket is open. */
  /** The intents each connected session identified with. */
  get connectedIntents(): number[] {
    return [...this.sessions.values()].filter((session) => session.socket?.readyState === WebSocket.OPEN).map((session) => session.intents);
  }

  get connectedSessions(): number {
    return [...this.sessions.values()].filter((session) => session.socket?.readyState === WebSocket.OPEN).length;
  }

  get hasSessions(): boolean {
    return this.sessions.size > 0;
  }

  /** Shard ids ([id, count]) of the identified sessions whose socket is open. */
  get connectedShards(): Array<[number, number]> {
    return [...this.sessions.values()].filter((session) => session.socket?.readyState === WebSocket.OPEN).map((session) => session.shard);
  }

  /**
   * Sends a dispatch to every session that Discord would send it to (by intents and channel visibility); sessions
   * that are disconnected but resumable keep it for replay. Returns how many sessions got or kept it.
   */
  dispatch(payload: Omit<GatewayDispatchPayload, 's' | 'op'>, channelId?: string): number {
    let delivered = 0;
    const guildId = (payload.d as { guild_id?: string } | undefined)?.guild_id;
    for (const session of this.sessions.values()) {
      // A guild's events go to its shard only; events outside guilds (DMs) to shard 0.
      const [shardId, numShards] = session.shard;
      if ((guildId ? shardOfGuild(guildId, numShards) : 0) !== shardId) continue;
      const shaped = this.shapeFor(session, payload, channelId);
      if (!shaped) continue;
      this.send(session, shaped);
      delivered++;
    }
    return delivered;
  }

  /** Closes every connection the way a network drop would, so the client resumes. */
  dropConnections(code = 4000): void {
    for (const socket of this.sockets) socket.close(code, 'Stand-in dropped the connection');
  }

  /** Forgets every session; the next RESUME gets INVALID_SESSION. */
  invalidateSessions(): void {
    for (const session of this.sessions.values()) {
      session.socket?.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null }));
    }
    this.sessions.clear();
  }

  /** Called whenever something a test may wait for changed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    this.sockets.add(socket);
    const params = new URL(request.url ?? '/', 'ws://localhost').searchParams;
    if (params.get('v') !== SUPPORTED_VERSION) {
      socket.close(GatewayCloseCodes.InvalidAPIVersion, 'Invalid API version');
      return;
    }
    if ((params.get('encoding') ?? 'json') !== 'json' || params.has('compress')) {
      // The stand-in speaks JSON without transport compression only.
      socket.close(GatewayCloseCodes.DecodeError, 'Only encoding=json without compress is supported by the stand-in');
      return;
    }
    let session: Session | null = null;
    let heartbeatTimer: NodeJS.Timeout | null = null;
    const armHeartbeatTimeout = (): void => {
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      // Discord closes a connection that misses heartbeats; give the client the usual 1.5 intervals.
      heartbeatTimer = setTimeout(() => socket.close(GatewayCloseCodes.SessionTimedOut, 'Heartbeat missed'), this.options.heartbeatIntervalMs * 1.5);
      heartbeatTimer.unref();
    };

    socket.on('message', (raw: RawData) => {
      const payload = parse(raw);
      if (!payload) {
        socket.close(GatewayCloseCodes.DecodeError, 'Error while decoding payload');
        return;
      }
      switch (payload.op) {
        case GatewayOpcodes.Heartbeat:
          armHeartbeatTimeout();
          socket.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck, d: null, s: null, t: null }));
          return;
        case GatewayOpcodes.Identify: {
          if (session) return socket.close(GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated');
          if (payload.d.token !== this.options.token) {
            return socket.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed');
          }
          if (disallowedIntents(Number(payload.d.intents), this.options.privilegedIntents)) {
            return socket.close(GatewayCloseCodes.DisallowedIntents, 'Disallowed intent(s).');
          }
          const shard = payload.d.shard ?? [0, 1];
          if (!Number.isInteger(shard[0]) || !Number.isInteger(shard[1]) || shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1]) {
            return socket.close(GatewayCloseCodes.InvalidShard, 'Invalid shard');
          }
          session = {
            id: randomBytes(16).toString('hex'),
            shard: [shard[0], shard[1]],
            intents: Number(payload.d.intents),
            seq: 0,
            socket,
            sent: [],
          };
          this.sessions.set(session.id, session);
          this.identifyCount++;
          this.identifiedShards.push([shard[0], shard[1]]);
          if (payload.d.presence) this.recordPresence(session.id, 'identify', payload.d.presence);
          this.sendReady(session);
          this.changed();
          return;
        }
        case GatewayOpcodes.Resume: {
          if (session) return socket.close(GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated');
          const resumed = this.sessions.get(payload.d.session_id);
          if (!resumed || payload.d.token !== this.options.token) {
            socket.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null }));
            return;
          }
          resumed.socket?.terminate();
          resumed.socket = socket;
          session = resumed;
          this.resumeCount++;
          for (const missed of resumed.sent.filter((sent) => sent.s > payload.d.seq)) socket.send(JSON.stringify(missed));
          this.send(resumed, { op: GatewayOpcodes.Dispatch, t: GatewayDispatchEvents.Resumed, d: undefined, s: 0 });
          this.changed();
          return;
        }
        case GatewayOpcodes.PresenceUpdate:
          if (!session) return socket.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated');
          this.recordPresence(session.id, 'presence-update', payload.d);
          this.changed();
          return;
        case GatewayOpcodes.RequestGuildMembers:
          if (!session) return socket.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated');
          this.sendMembersChunk(session, payload.d);
          return;
        default:
          if (!session) return socket.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated');
          // Voice state, soundboard and channel-info requests are accepted and ignored.
          return;
      }
    });

    socket.on('close', (code: number) => {
      this.sockets.delete(socket);
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      if (session && session.socket === socket) {
        session.socket = null;
        // A clean close ends the session on Discord; anything else leaves it resumable.
        if (code === 1000 || code === 1001) this.sessions.delete(session.id);
      }
      this.changed();
    });

    socket.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs }, s: null, t: null }));
    armHeartbeatTimeout();
  }

  private sendReady(session: Session): void {
    const { model } = this.options;
    const [shardId, numShards] = session.shard;
    const guilds = this.options.guilds.filter((guild) => shardOfGuild(guild.guild.id, numShards) === shardId);
    this.send(session, {
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.Ready,
      s: 0,
      d: {
        v: 10,
        user: model.bot,
        guilds: guilds.map((guild) => ({ id: guild.guild.id, unavailable: true })),
        session_id: session.id,
        resume_gateway_url: this.options.url(),
        shard: session.shard,
        application: { id: model.applicationId, flags: this.applicationFlags, flags_new: String(this.applicationFlags) },
      },
    });
    for (const guild of guilds) this.sendGuildCreate(session, guild, 'listed in READY');
  }

  /** Someone adds the bot to a guild: from now on it is one of the bot's, and its shard's sessions are told. */
  joinGuild(guild: GuildModel): void {
    if (this.options.guilds.includes(guild)) return;
    this.options.guilds.push(guild);
    for (const session of this.sessions.values()) {
      if (shardOfGuild(guild.guild.id, session.shard[1]) === session.shard[0]) this.sendGuildCreate(session, guild, 'joined');
    }
  }

  private sendGuildCreate(session: Session, { guild }: GuildModel, why: 'listed in READY' | 'joined'): void {
    if (!(session.intents & GatewayIntentBits.Guilds)) return;
    // Without the privileged Guild Members intent, GUILD_CREATE lists only the bot itself.
    const bot = this.options.model.bot.id;
    const members = session.intents & GatewayIntentBits.GuildMembers ? guild.members : guild.members.filter((member) => member.user.id === bot);
    // The guilds READY listed as unavailable arrive with `unavailable: false` (a guild the bot joins later has none).
    const d = why === 'joined' ? { ...guild, members } : { ...guild, members, unavailable: false };
    this.send(session, { op: GatewayOpcodes.Dispatch, t: GatewayDispatchEvents.GuildCreate, s: 0, d });
  }

  private sendMembersChunk(session: Session, request: GatewayRequestGuildMembersData): void {
    const all = [...(this.options.guilds.find((guild) => guild.guild.id === request.guild_id)?.members.values() ?? [])];
    const wanted =
      'user_ids' in request
        ? all.filter((member) => [request.user_ids].flat().includes(member.user.id))
        : all.filter((member) => member.user.username.toLowerCase().startsWith(request.query.toLowerCase())).slice(0, request.limit || undefined);
    this.send(session, {
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.GuildMembersChunk,
      s: 0,
      d: {
        guild_id: request.guild_id,
        members: wanted,
        chunk_index: 0,
        chunk_count: 1,
        ...(request.nonce !== undefined && { nonce: request.nonce }),
      },
    });
  }

  /** What Discord would send this session, or null when it would send nothing. */
  private shapeFor(
    session: Session,
    payload: Omit<GatewayDispatchPayload, 's' | 'op'>,
    channelId: string | undefined,
  ): GatewayDispatchPayload | null {
    const messageEvents: string[] = [
      GatewayDispatchEvents.MessageCreate,
      GatewayDispatchEvents.MessageUpdate,
      GatewayDispatchEvents.MessageDelete,
      GatewayDispatchEvents.MessageDeleteBulk,
    ];
    if (messageEvents.includes(payload.t)) {
      if (!(session.intents & GatewayIntentBits.GuildMessages)) return null;
      if (channelId && !this.botCanView(channelId)) return null;
    }
    const shaped = { ...payload, op: GatewayOpcodes.Dispatch, s: 0 } as GatewayDispatchPayload;
    if (
      (shaped.t === GatewayDispatchEvents.MessageCreate || shaped.t === GatewayDispatchEvents.MessageUpdate) &&
      !(session.intents & GatewayIntentBits.MessageContent)
    ) {
      const message = shaped.d;
      const exempt = message.author.id === this.options.model.bot.id || message.mentions.some((user) => user.id === this.options.model.bot.id);
      // Without the privileged Message Content intent Discord blanks what a message says.
      if (!exempt) return { ...shaped, d: { ...message, content: '', embeds: [], attachments: [], components: [] } };
    }
    return shaped;
  }

  private botCanView(channelId: string): boolean {
    const guild = this.options.guilds.find((candidate) => Object.values(candidate.channels).some((channel) => channel.id === channelId));
    return !!guild && !guild.hiddenFromBot.has(channelId);
  }

  private send(session: Session, payload: GatewayDispatchPayload): void {
    const numbered = { ...payload, s: ++session.seq } as GatewayDispatchPayload;
    session.sent.push(numbered);
    if (session.sent.length > REPLAY_LIMIT) session.sent.shift();
    if (session.socket?.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify(numbered));
  }

  private recordPresence(sessionId: string, source: RecordedPresence['source'], presence: GatewayPresenceUpdateData): void {
    this.presences.push({ ...presence, sessionId, source, receivedAt: new Date() });
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

function parse(raw: RawData): GatewaySendPayload | null {
  try {
    const text = Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw as ArrayBuffer).toString('utf8');
    const payload: unknown = JSON.parse(text);
    if (typeof payload !== 'object' || payload === null || typeof (payload as { op?: unknown }).op !== 'number') return null;
    return payload as GatewaySendPayload;
  } catch {
    return null;
  }
}
