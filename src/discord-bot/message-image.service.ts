import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { GatewayDispatchEvents, type APIMessage, type GatewayDispatchPayload, type Message } from 'discord.js';
import { backoffDelay } from '../common/backoff';
import { errorMessage } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { BackendCallbacks, type DeliveryNow } from '../backend/backend-callbacks';
import type { BackendCallback, BackendEventName } from '../backend/backend-callback';
import { Outbox, outcome, type OutboxJobRun, type OutboxOutcome } from '../outbox/outbox';
import { RenderService } from '../render/render.service';
import { ObjectStorage } from '../storage/object-storage';
import { telemetry } from '../telemetry/telemetry';
import { DiscordGateway } from './discord-gateway';
import { MessageImageRecord, MessageImageStore } from './message-image.store';
import { imageKey, snapshotOf, type MessageSnapshot } from './message-snapshot';

export const MESSAGE_IMAGES_QUEUE = 'discord-images';

/** A gateway message event as recorded: the raw payload for a create or an edit, the ids for a delete. */
export type MessageEventJob =
  | { event: 'created' | 'edited'; messageId: string; message: APIMessage & { guild_id?: string } }
  | { event: 'deleted'; messageId: string; channelId: string; guildId: string };

/** Runs whose recorded event could not be read (a throw while deriving what the image shows) before it is parked. */
const UNREADABLE_RUNS = 3;
/** Recording a gateway event while MongoDB is away is retried in memory up to this backoff. */
const RECORD_RETRY_MAX_MS = 5_000;
/**
 * Gateway events recorded at once; the rest wait their turn in memory, in arrival order. Unbounded, a burst of 1,000
 * messages became 1,000 concurrent enqueues (~7,000 writes), under which FerretDB's SQLite spent its time contending
 * and recorded none of them in two minutes (npm run bench); a burst of 200 went through at 7.5 per second.
 */
const RECORD_CONCURRENCY = 8;

const imageWork = telemetry.counter('herald_discord_image_work_total', 'Message image renders and deletes, by outcome', ['work', 'outcome']);

/**
 * An edit re-renders the image to the same key (the backend keeps the URL): a CDN or browser may keep an image a minute,
 * then asks again (an unchanged one is answered 304 by its ETag), so an edit shows within a minute. Without it a CDN
 * served the old picture for as long as it liked.
 */
export const MESSAGE_IMAGE_CACHE_CONTROL = 'public, max-age=60';

export const messageLane = (messageId: string) => `discord:message:${messageId}`;

/**
 * A watched channel's messages as images in S3, and the backend told of each. A gateway event is first recorded as
 * an outbox job in its message's lane (nothing that can throw comes before that); the job then reads the message from
 * the recorded payload, renders and stores the image (or deletes it), and owes the backend its callback. One job of a
 * lane runs at a time, across all processes, so a message's record is never written by two at once.
 */
@Injectable()
export class MessageImageService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MessageImageService.name);
  private readonly recording = pLimit(RECORD_CONCURRENCY);
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly gateway: DiscordGateway,
    private readonly store: MessageImageStore,
    private readonly outbox: Outbox,
    private readonly render: RenderService,
    private readonly storage: ObjectStorage,
    private readonly callbacks: BackendCallbacks,
  ) {}

  onModuleInit(): void {
    // A lane per message: it holds a job only while an event of that message is being drawn.
    this.outbox.register<MessageEventJob>(MESSAGE_IMAGES_QUEUE, (job) => this.run(job), { shortLanes: true });
  }

  /**
   * Records an older Herald wrote move to their message ids, after the callbacks the oldest queued inside them move to
   * the outbox; start-up does not wait for it (a record looked for meanwhile is moved on the spot).
   */
  onApplicationBootstrap(): void {
    this.store
      .adoptOwedCallbacks((callback) => this.callbacks.owe(callback))
      .then((adopted) => adopted && this.logger.log({ records: adopted }, 'Moved callbacks owed by older records to the outbox'))
      // The record move says what it did itself, and never throws; this catch is for the callbacks.
      .then(() => this.store.moveLegacyRecords())
      .catch((error: unknown) =>
        this.logger.warn({ reason: errorMessage(error) }, 'Could not move callbacks owed by older records yet; next start tries again'),
      );
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  /**
   * Called synchronously for every gateway dispatch. Copies what a message event carries and stores it durably; while
   * MongoDB is unreachable the copy is kept in memory and stored once it is back (Discord never sends it again).
   */
  recordDispatch(packet: GatewayDispatchPayload): void {
    void this.recordEvent(packet);
  }

  /**
   * Records a message event: a gateway dispatch, or one the gateway never delivered, made from what was read back over
   * REST (MessageCatchUp), under the same key as the gateway's (a create or a delete the gateway did deliver is stored
   * once). Resolves once it is stored (or skipped); never rejects (recording retries until it is stored or Herald stops).
   */
  async recordEvent(packet: GatewayDispatchPayload): Promise<void> {
    await Promise.all(this.jobsOf(packet).map((job) => this.recording(() => this.record(job))));
  }

  private jobsOf(packet: GatewayDispatchPayload): MessageEventJob[] {
    switch (packet.t) {
      case GatewayDispatchEvents.MessageCreate:
      case GatewayDispatchEvents.MessageUpdate: {
        const message = JSON.parse(JSON.stringify(packet.d)) as APIMessage & { guild_id?: string };
        if (!this.watches(message.guild_id, message.channel_id, message.author)) return [];
        const event = packet.t === GatewayDispatchEvents.MessageCreate ? 'created' : 'edited';
        return [{ event, messageId: message.id, message }];
      }
      case GatewayDispatchEvents.MessageDelete: {
        const { id, channel_id: channelId, guild_id: guildId } = packet.d;
        return guildId && this.watches(guildId, channelId) ? [{ event: 'deleted', messageId: id, channelId, guildId }] : [];
      }
      case GatewayDispatchEvents.MessageDeleteBulk: {
        const { ids, channel_id: channelId, guild_id: guildId } = packet.d;
        if (!guildId || !this.watches(guildId, channelId)) return [];
        return ids.map((messageId) => ({ event: 'deleted' as const, messageId, channelId, guildId }));
      }
      default:
        return [];
    }
  }

  /** A first look on the raw payload, so the bot's own and ignored channels' messages cost no job; `isRendered` decides. */
  private watches(guildId: string | undefined, channelId: string, author?: { id: string; bot?: boolean }): boolean {
    if (!guildId) return false;
    if (author && author.id === this.gateway.botUserId) return false;
    if (author?.bot && !this.config.discord.renderBotMessages) return false;
    return allowlistAdmits(this.config, channelId, () => this.gateway.cachedParentOf(channelId));
  }

  private async record(job: MessageEventJob): Promise<void> {
    const ids = { messageId: job.messageId, event: job.event };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.outbox.enqueue<MessageEventJob>({
          queue: MESSAGE_IMAGES_QUEUE,
          lane: messageLane(job.messageId),
          key: eventKey(job),
          payload: job,
        });
        if (job.event === 'created') {
          this.logger.log({ messageId: job.messageId, channelId: job.message.channel_id, authorId: job.message.author.id }, 'New message');
        } else this.logger.log(ids, job.event === 'edited' ? 'Message edited' : 'Message deleted');
        return;
      } catch (error) {
        if (this.stopping) {
          // Not lost for good: the next new gateway session reads the channel back from its latest record
          // (MessageCatchUp), which finds a create unless a later message of the channel was recorded meanwhile, and an
          // edit or a delete among the channel's latest 100 (docs/adr/0007).
          this.logger.warn(
            { ...ids, reason: errorMessage(error) },
            'Shutting down before a gateway event could be recorded; the next gateway session reads its channel back',
          );
          return;
        }
        const delayMs = backoffDelay(attempt, this.config.outbox.backoffBaseMs, RECORD_RETRY_MAX_MS);
        this.logger.warn({ ...ids, attempt, retryInMs: delayMs, reason: errorMessage(error) }, 'Could not record a gateway event; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private async run(job: OutboxJobRun<MessageEventJob>): Promise<OutboxOutcome> {
    const event = job.payload;
    if (event.event === 'deleted') return this.removeImage(event, job.id);
    const message = await this.gateway.messageFrom(event.message);
    if (!message) return outcome.done();
    let snapshot: MessageSnapshot | null;
    try {
      snapshot = this.isRendered(message) ? snapshotOf(await this.gateway.observe(message)) : null;
    } catch (error) {
      // e.g. discord.js meeting a role without the `colors` object it expects: retried, then parked with the reason.
      const reason = `could not read message ${event.messageId} from its gateway event: ${errorMessage(error)}`;
      return job.attempts + 1 >= UNREADABLE_RUNS ? outcome.park(reason) : outcome.retry(reason);
    }
    return snapshot ? this.showImage(snapshot, event.event, job.id) : outcome.done();
  }

  /** Renders the message version the event shows, unless the record already shows it or something newer. */
  private async showImage(snapshot: MessageSnapshot, event: 'created' | 'edited', jobId: string): Promise<OutboxOutcome> {
    const messageId = snapshot.messageId;
    const first = { ...this.fieldsOf(snapshot), key: this.keyOf(snapshot), messageCreatedAt: snapshot.createdAt, ...NEW, jobId };
    // A new message has no record: stored straight away. An edit usually has one (read first); an edit of a message
    // from before Herald watched the channel gets its first image here.
    const found = event === 'edited' ? await this.store.find(messageId) : null;
    const stored = found ? { record: found, created: false } : await this.store.findOrCreate(first);
    const created = stored.created;
    let record = stored.record;
    if (!created && !(record.jobId === jobId && record.state === 'pending')) {
      const skip = whyNotShown(record, snapshot, event);
      if (skip) {
        this.logger.debug({ messageId, reason: skip }, 'Image kept');
        return outcome.done();
      }
      const revision = record.revision + 1;
      await this.store.update(messageId, { ...this.fieldsOf(snapshot), state: 'pending', revision, jobId });
      record = { ...record, ...this.fieldsOf(snapshot), state: 'pending', revision, jobId };
    }
    // From here on a run that stopped half-way and runs again repeats the same revision: same key, same callback.
    const started = Date.now();
    try {
      const { renderLook, renderTimestamps, renderWidth } = this.config.discord;
      const look = { ...renderLook, width: renderWidth };
      const png = await this.render.renderDiscordMessage({ ...record.input, ...look }, { timestampStyle: renderTimestamps });
      const { urn, url } = await this.storage.put(record.key, png, 'image/png', { cacheControl: MESSAGE_IMAGE_CACHE_CONTROL });
      const callbackEvent: BackendEventName = record.renderedRevision === 0 ? 'created' : 'updated';
      await this.tellBackend(record, callbackOf(record, callbackEvent, { urn, url }, `discord:${messageId}:${callbackEvent}:${record.revision}`));
      await this.store.update(messageId, { state: 'rendered', renderedRevision: record.revision, urn, url: url ?? null, jobId: null });
      imageWork.inc({ work: 'render', outcome: 'ok' });
      this.logger.log({ messageId, channelId: record.channelId, revision: record.revision, urn, ms: Date.now() - started }, 'Rendered message image');
      return outcome.done();
    } catch (error) {
      imageWork.inc({ work: 'render', outcome: 'failed' });
      throw error;
    }
  }

  /** Removes the object and tells the backend, if it ever heard of the message. */
  private async removeImage(event: Extract<MessageEventJob, { event: 'deleted' }>, jobId: string): Promise<OutboxOutcome> {
    const { messageId } = event;
    const record = await this.store.find(messageId);
    if (!record) {
      // Remembered as deleted, so a create recorded after the delete (out of order) draws nothing.
      await this.store.findOrCreate({ ...TOMBSTONE, messageId, guildId: event.guildId, channelId: event.channelId, deletedAt: new Date(), jobId });
      return outcome.done();
    }
    if (record.state === 'deleted') return outcome.done();
    const deletedAt = record.state === 'deleting' && record.deletedAt ? record.deletedAt : new Date();
    if (record.state !== 'deleting') await this.store.update(messageId, { state: 'deleting', deletedAt, jobId });
    try {
      await this.storage.delete(record.key);
      if (record.renderedRevision > 0) {
        await this.tellBackend(
          record,
          callbackOf({ ...record, deletedAt }, 'deleted', { urn: record.urn, url: record.url ?? undefined }, `discord:${messageId}:deleted`),
        );
      }
      await this.store.update(messageId, { state: 'deleted', jobId: null });
      imageWork.inc({ work: 'delete', outcome: 'ok' });
      this.logger.log({ messageId, channelId: record.channelId, key: record.key }, 'Deleted message image');
      return outcome.done();
    } catch (error) {
      imageWork.inc({ work: 'delete', outcome: 'failed' });
      throw error;
    }
  }

  /**
   * Tells the backend from this job when none of the message's callbacks can be waiting in the outbox; otherwise, or
   * when the backend does not acknowledge it, queues it behind them. The record says so before the job is stored, so
   * a run that stops in between still queues the message's next callback, and no callback overtakes a queued one.
   */
  private async tellBackend(record: MessageImageRecord, callback: BackendCallback): Promise<void> {
    if (!this.callbacks.enabled) return;
    const now: DeliveryNow = record.callbacksQueued === false ? await this.callbacks.deliverNow(callback) : { kind: 'skipped' };
    if (now.kind === 'delivered') return;
    if (record.callbacksQueued !== true) await this.store.update(record.messageId, { callbacksQueued: true });
    await this.callbacks.owe(callback, now);
    const ids = { messageId: record.messageId, event: callback.event };
    if (now.kind === 'failed') this.logger.warn(ids, 'Backend callback not acknowledged; queued for retry');
    if (now.kind === 'refused') this.logger.warn({ ...ids, reason: now.reason }, 'Backend refused the callback; parked in the outbox');
  }

  private fieldsOf(snapshot: MessageSnapshot) {
    return {
      messageId: snapshot.messageId,
      guildId: snapshot.guildId,
      channelId: snapshot.channelId,
      authorId: snapshot.authorId,
      guildName: snapshot.guildName,
      channelName: snapshot.channelName,
      jumpUrl: snapshot.jumpUrl,
      input: snapshot.input,
      shownHash: snapshot.shownHash,
      editedAt: snapshot.editedAt,
    };
  }

  private keyOf(snapshot: MessageSnapshot): string {
    return imageKey(this.config.discord.imageKeyTemplate, snapshot);
  }

  /** Messages people write in guild channels the bot is asked to watch; not its own, not other bots' by default. */
  isRendered(message: Message): message is Message<true> {
    return isRendered(message, this.config, this.gateway.botUserId);
  }
}

export function isRendered(message: Message, config: AppConfig, botUserId: string | null): message is Message<true> {
  if (!message.inGuild() || message.system) return false;
  if (message.author.id === botUserId) return false;
  if (message.author.bot && !config.discord.renderBotMessages) return false;
  return allowlistAdmits(config, message.channelId, () => (message.channel.isThread() ? message.channel.parentId : null));
}

/**
 * Whether DISCORD_CHANNEL_ALLOWLIST admits a channel: any channel while it is empty, else the channel or, for a thread,
 * its parent (asked for only when the channel itself is not listed).
 */
export function allowlistAdmits(config: AppConfig, channelId: string, parentOf: () => string | null): boolean {
  const allowlist = config.discord.channelAllowlist;
  if (allowlist.length === 0 || allowlist.includes(channelId)) return true;
  const parentId = parentOf();
  return parentId !== null && allowlist.includes(parentId);
}

const NEW = { state: 'pending', revision: 1, renderedRevision: 0, urn: null, url: null, deletedAt: null, callbacksQueued: false } as const;

const TOMBSTONE = {
  authorId: '',
  guildName: null,
  channelName: null,
  jumpUrl: null,
  key: '',
  input: {} as MessageImageRecord['input'],
  shownHash: '',
  state: 'deleted',
  revision: 0,
  renderedRevision: 0,
  urn: null,
  url: null,
  messageCreatedAt: new Date(0),
  editedAt: null,
  callbacksQueued: false,
} as const;

/** Why an event's version is not drawn: the message is gone, the event is a replay, older, or shows nothing new. */
function whyNotShown(record: MessageImageRecord, snapshot: MessageSnapshot, event: 'created' | 'edited'): string | null {
  if (record.state === 'deleting' || record.state === 'deleted') return 'the message was deleted';
  if (event === 'created') return 'already recorded (a gateway replay)';
  if (record.editedAt && (!snapshot.editedAt || snapshot.editedAt < new Date(record.editedAt))) return 'an older version than the one shown';
  if (record.shownHash === snapshot.shownHash) return 'the edit changes nothing shown';
  return null;
}

/**
 * The job's key: a gateway event seen twice (two processes connected as the bot, a replay after RESUME) is stored once.
 * An edit is keyed by its payload, so each distinct edit is one job.
 */
function eventKey(job: MessageEventJob): string {
  if (job.event !== 'edited') return `discord:${job.event}:${job.messageId}`;
  return `discord:edited:${job.messageId}:${createHash('sha256').update(JSON.stringify(job.message)).digest('hex')}`;
}

function callbackOf(
  record: MessageImageRecord,
  event: BackendEventName,
  image: { urn: string | null; url?: string },
  idempotencyKey: string,
): BackendCallback {
  return {
    event,
    idempotencyKey,
    guildId: record.guildId,
    channelId: record.channelId,
    messageId: record.messageId,
    authorId: record.authorId,
    guildName: record.guildName ?? null,
    channelName: record.channelName ?? null,
    jumpUrl: record.jumpUrl ?? `https://discord.com/channels/${record.guildId}/${record.channelId}/${record.messageId}`,
    urn: image.urn,
    ...(image.url ? { url: image.url } : {}),
    createdAt: new Date(record.messageCreatedAt).toISOString(),
    editedAt: record.editedAt ? new Date(record.editedAt).toISOString() : null,
    deletedAt: record.deletedAt ? new Date(record.deletedAt).toISOString() : null,
  };
}
