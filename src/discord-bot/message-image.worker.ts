import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { backoffDelay } from '../common/backoff';
import { leaseOwnerId } from '../common/lease-owner';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { RenderService } from '../render/render.service';
import { ObjectStorage } from '../storage/object-storage';
import { BackendCallbackWorker } from './backend-callback.worker';
import { MessageImageRecord, MessageImageStore } from './message-image.store';

const imageWork = telemetry.counter('herald_discord_image_work_total', 'Message image renders and deletes, by outcome', ['work', 'outcome']);

/** Longer than a render (RENDER_TIMEOUT_MS) plus an S3 write; a crashed holder's work is taken over after it. */
const LEASE_MS = 120_000;
const BATCH = 8;
/** A record owes at most: a render, another render after an edit during the first, a delete. */
const MAX_ROUNDS = 4;

/**
 * Does the work message records owe: render the image and put it in S3, or delete the object of a deleted
 * message. Runs right after a gateway event and, for what failed (storage down, browser busy), again on a timer
 * with exponential backoff, until it succeeds — so nothing that arrived while S3 was down is lost.
 */
@Injectable()
export class MessageImageWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MessageImageWorker.name);
  private readonly owner = leaseOwnerId();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: MessageImageStore,
    private readonly render: RenderService,
    private readonly storage: ObjectStorage,
    private readonly callbacks: BackendCallbackWorker,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.retryDue(), this.config.outbox.pollIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Let started renders finish so their result is recorded; what is cut off is retried after the lease expires.
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }

  /** Does what the message owes now, instead of waiting for the next poll. */
  runNow(messageId: string): Promise<void> {
    const run = this.drain(messageId).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
    return run;
  }

  private async retryDue(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const messageId of await this.store.dueWork(new Date(), BATCH)) await this.runNow(messageId);
    } catch (error) {
      this.logger.warn({ reason: describe(error) }, 'Could not look for owed message images');
    } finally {
      this.polling = false;
    }
  }

  private async drain(messageId: string): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const claimed = await this.store.claimWork(messageId, this.owner, LEASE_MS);
      if (!claimed) return;
      const done = claimed.state === 'deleting' ? await this.deleteImage(claimed) : await this.renderImage(claimed);
      if (!done) return;
    }
  }

  /** True when the record may owe more (it moved on while we rendered); false after a failure. */
  private async renderImage(claimed: MessageImageRecord): Promise<boolean> {
    const started = Date.now();
    try {
      const png = await this.render.renderDiscordMessage(claimed.input, { timestampStyle: this.config.discord.renderTimestamps });
      const { urn, url } = await this.storage.put(claimed.key, png, 'image/png');
      const outcome = await this.store.completeRender(claimed, { urn, url }, this.callbacks.enabled);
      this.logger.log(
        { messageId: claimed.messageId, channelId: claimed.channelId, revision: claimed.revision, urn, outcome, ms: Date.now() - started },
        'Rendered message image',
      );
      imageWork.inc({ work: 'render', outcome: 'ok' });
      this.callbacks.kick();
      // superseded: edited again or deleted meanwhile, the next round renders the newer revision or removes it.
      return outcome !== 'lost';
    } catch (error) {
      await this.failed(claimed, 'render', error);
      return false;
    }
  }

  private async deleteImage(claimed: MessageImageRecord): Promise<boolean> {
    try {
      await this.storage.delete(claimed.key);
      await this.store.completeDelete(claimed, this.callbacks.enabled);
      this.logger.log({ messageId: claimed.messageId, channelId: claimed.channelId, key: claimed.key }, 'Deleted message image');
      imageWork.inc({ work: 'delete', outcome: 'ok' });
      this.callbacks.kick();
      return true;
    } catch (error) {
      await this.failed(claimed, 'delete', error);
      return false;
    }
  }

  private async failed(claimed: MessageImageRecord, work: 'render' | 'delete', error: unknown): Promise<void> {
    imageWork.inc({ work, outcome: 'failed' });
    const attempt = claimed.attempts + 1;
    const delayMs = backoffDelay(attempt, this.config.outbox.backoffBaseMs, this.config.outbox.backoffMaxMs);
    const reason = describe(error);
    await this.store
      .failWork(claimed, reason, new Date(Date.now() + delayMs))
      .catch((storeError: unknown) =>
        this.logger.warn({ messageId: claimed.messageId, reason: describe(storeError) }, 'Could not record a failed attempt'),
      );
    this.logger.warn({ messageId: claimed.messageId, work, attempt, retryInMs: delayMs, reason }, `Message image ${work} failed; will retry`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
