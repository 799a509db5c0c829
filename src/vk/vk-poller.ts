import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { backoffDelay } from '../common/backoff';
import { errorMessage } from '../common/errors';
import { telemetry } from '../telemetry/telemetry';
import { ReadinessService } from '../health/readiness.service';
import { VkApi, VkApiError } from './vk-api';
import { VkDeliveries } from './vk-deliveries';
import { LEASE_RENEW_EVERY_MS, VkLease } from './vk-lease';
import { NORMALISED_UPDATE_TYPES } from './vk-normaliser';
import { VkReader } from './vk-reader';
import { VkErrorCode, type VkLongPollFailure, type VkLongPollServer, type VkLongPollSettings, type VkUpdate } from './vk-wire';

/** How often a standby replica tries to take the lease. */
const STANDBY_RETRY_MS = 5000;
/** Since 5.103 a message_new's object wraps the message (`object.message`): the oldest event shapes Herald reads. */
const OLDEST_READABLE_API_VERSION = '5.103';

/** `a` older than `b`, both VK API versions ("5.92" < "5.103"). */
function versionBefore(a: string, b: string): boolean {
  const [aMajor, aMinor] = a.split('.').map(Number);
  const [bMajor, bMinor] = b.split('.').map(Number);
  if (!Number.isFinite(aMajor) || !Number.isFinite(aMinor)) return false;
  return aMajor < bMajor || (aMajor === bMajor && aMinor < bMinor);
}

const updatesTotal = telemetry.counter('herald_vk_updates_total', 'VK long-poll updates by type and what became of them', ['type', 'outcome']);
const longPollFailures = telemetry.counter('herald_vk_longpoll_failed_total', 'Long-poll answers with failed: 1, 2 or 3', ['code']);
const pollerErrors = telemetry.counter('herald_vk_poller_errors_total', 'Poller errors that led to a backoff', ['kind']);

export type VkPollerStatus = 'starting' | 'standby' | 'polling' | 'backing-off' | 'stopped';

/**
 * The Bots Long Poll loop for one community. It holds the community's lease, polls from the stored `ts`, and for
 * each batch stores the deliveries as outbox jobs before saving the batch's `ts`, so a restart resumes where the
 * last stored batch ended and an update is never acknowledged before it is safe. Updates VK repeats (or that a
 * replayed batch brings again) store nothing new: a delivery's job key comes from event_id and destination. Errors
 * back off with the shared backoff (OUTBOX_BACKOFF_*).
 */
@Injectable()
export class VkPoller implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(VkPoller.name);
  status: VkPollerStatus = 'starting';
  /** Set when VK refused the token; the poller has stopped and readiness reports this. */
  authFailure: string | null = null;
  /** Set while the community's settings keep the poller from starting (Long Poll API off); it retries meanwhile. */
  settingsProblem: string | null = null;

  private stopping = false;
  private settingsChecked = false;
  private loop?: Promise<void>;
  private server: VkLongPollServer | null = null;
  private ts: string | null = null;
  private failures = 0;
  /** We took the lease and have not noticed losing it. */
  private holding = false;
  private renewTimer?: NodeJS.Timeout;
  private inFlight?: AbortController;
  private wakeFromSleep?: () => void;

  constructor(
    private readonly api: VkApi,
    private readonly reader: VkReader,
    private readonly deliveries: VkDeliveries,
    private readonly lease: VkLease,
    private readonly readiness: ReadinessService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.readiness.register({
      name: 'vk',
      // VK refusing the token is the same for every replica: degraded, not out of rotation (see ReadinessCheck).
      required: false,
      check: async () => {
        if (this.authFailure) throw new Error(this.authFailure);
      },
    });
    // Optional: a setting the poller waits on degrades the service without taking the HTTP API out of rotation.
    this.readiness.register({
      name: 'vk-long-poll',
      required: false,
      check: async () => {
        if (this.settingsProblem) throw new Error(this.settingsProblem);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.inFlight?.abort();
    this.wakeFromSleep?.();
    await this.loop;
    this.stopRenewing();
    if (this.lease.held) await this.lease.release().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!this.lease.held && !(await this.takeLease())) {
          await this.sleep(STANDBY_RETRY_MS);
          continue;
        }
        await this.pollOnce();
        this.failures = 0;
        this.status = 'polling';
      } catch (error) {
        if (this.stopping) break;
        if (this.holding && !this.lease.held) {
          this.onLeaseLost();
          continue;
        }
        if (error instanceof VkApiError && error.isAuthFailure) {
          this.stopForAuth(error);
          break;
        }
        await this.backOff(error);
      }
    }
  }

  private async takeLease(): Promise<boolean> {
    const state = await this.lease.acquire();
    if (!state) {
      if (this.status !== 'standby') this.logger.log({ groupId: this.config.vk.groupId }, 'Another replica polls this VK community; standing by');
      this.status = 'standby';
      return false;
    }
    this.ts = state.ts;
    this.server = null;
    this.holding = true;
    this.status = 'polling';
    this.startRenewing();
    this.logger.log({ groupId: this.config.vk.groupId, ts: this.ts }, this.ts ? 'VK poller resumes from the stored ts' : 'VK poller starts');
    if (!this.settingsChecked) {
      this.settingsChecked = true;
      // Advice only: nothing it meets (an answer of another shape) may reach the process as an unhandled rejection.
      this.checkSettings().catch((error: unknown) =>
        this.logger.warn({ reason: errorMessage(error) }, "Could not check the community's Long Poll settings"),
      );
    }
    return true;
  }

  /**
   * Reads the community's Long Poll settings once and says what would keep events from Herald: an API version older
   * than the one whose shapes Herald reads, or an event type it routes left unticked (VK then sends none of it, and
   * nothing else would tell). Needs a token with the right to manage the community; without it, nothing is checked.
   */
  private async checkSettings(): Promise<void> {
    const groupId = this.config.vk.groupId;
    let settings: VkLongPollSettings;
    try {
      settings = await this.api.getLongPollSettings();
    } catch (error) {
      this.logger.log(
        { groupId, reason: errorMessage(error) },
        "Could not read the community's Long Poll settings (VK_TOKEN may lack the right to manage the community, or VK_GROUP_ID not be its id); not checked",
      );
      return;
    }
    const where = "in the community's settings (Manage → API usage → Long Poll API)";
    if (typeof settings?.api_version === 'string' && versionBefore(settings.api_version, OLDEST_READABLE_API_VERSION)) {
      this.logger.warn(
        { groupId, apiVersion: settings.api_version },
        `The community sends Long Poll events in API ${settings.api_version}; Herald reads ${OLDEST_READABLE_API_VERSION} and later ` +
          `(it asks for ${this.config.vk.apiVersion}): set the API version ${where}. Updates it cannot read are parked in vk-unreadable`,
      );
    }
    const off = NORMALISED_UPDATE_TYPES.filter((type) => !Number(settings?.events?.[type] ?? 0));
    if (settings?.events && off.length > 0) {
      this.logger.warn(
        { groupId, off },
        `The community does not send ${off.join(', ')}: tick ${off.length === 1 ? 'it' : 'them'} on the "Event types" tab ${where} if Herald should route ${off.length === 1 ? 'it' : 'them'}`,
      );
    }
  }

  private async pollOnce(): Promise<void> {
    if (!this.server) {
      this.server = await this.api.getLongPollServer();
      this.settingsProblem = null; // VK handed out a key: the Long Poll API is on
      if (this.ts === null) {
        this.ts = this.server.ts;
        await this.lease.saveTs(this.ts);
      }
    }
    const ts = this.ts ?? this.server.ts;
    // Stopped while the key was fetched or the ts saved: a long poll begun now would hold the shutdown for its whole
    // wait (25 s), past the shutdown's deadline. (onModuleDestroy sets `stopping` before aborting what is in flight.)
    if (this.stopping) return;
    this.inFlight = new AbortController();
    let answer;
    try {
      answer = await this.api.checkLongPoll(this.server, ts, this.config.vk.longPollWaitSeconds, this.inFlight.signal);
    } finally {
      this.inFlight = undefined;
    }
    if ('failed' in answer) return this.onLongPollFailed(answer);
    await this.takeBatch(answer.updates, String(answer.ts));
  }

  private async onLongPollFailed(answer: VkLongPollFailure): Promise<void> {
    longPollFailures.inc({ code: String(answer.failed) });
    switch (answer.failed) {
      case 1:
        // The history moved on: continue from the ts VK gives.
        this.ts = String(answer.ts ?? this.ts);
        await this.lease.saveTs(this.ts);
        this.logger.log({ ts: this.ts }, 'VK long poll failed:1, continuing from the ts it gave');
        return;
      case 2:
        // Only the key expired: a new key, the same ts, nothing lost.
        this.server = null;
        this.logger.log({ ts: this.ts }, 'VK long poll failed:2, fetching a new key and keeping ts');
        return;
      case 3:
        // VK lost the information: a new key and a new ts are the only way on.
        this.server = null;
        this.ts = null;
        this.logger.warn('VK long poll failed:3, fetching a new key and ts; updates VK lost in between cannot be fetched');
        return;
    }
  }

  private async takeBatch(updates: VkUpdate[], nextTs: string): Promise<void> {
    const seen = new Set<string>();
    const fresh = updates.filter((update) => {
      if (seen.has(update.event_id)) {
        updatesTotal.inc({ type: update.type, outcome: 'duplicate' });
        return false;
      }
      seen.add(update.event_id);
      return true;
    });

    const { routed, skipped, unreadable } = await this.reader.read(fresh);
    for (const update of skipped) {
      updatesTotal.inc({ type: update.type, outcome: 'skipped' });
      this.logger.debug({ eventId: update.event_id, type: update.type }, 'VK update type is not routed; skipped');
    }
    for (const { update } of routed) updatesTotal.inc({ type: update.type, outcome: 'stored' });
    for (const { update, reason } of unreadable) {
      updatesTotal.inc({ type: String(update.type), outcome: 'unreadable' });
      this.logger.error(
        { eventId: update.event_id, type: update.type, v: update.v, reason },
        'A VK update could not be read; parked with its raw form (GET /outbox?queue=vk-unreadable), the batch goes on',
      );
    }

    await this.deliveries.store(routed);
    await this.deliveries.parkUnreadable(unreadable);
    // Only now is the batch safe: moving ts earlier could lose it in a crash.
    await this.lease.saveTs(nextTs);
    this.ts = nextTs;
  }

  private async backOff(error: unknown): Promise<void> {
    this.failures += 1;
    this.status = 'backing-off';
    const delayMs = backoffDelay(this.failures, this.config.outbox.backoffBaseMs, this.config.outbox.backoffMaxMs);
    const kind = error instanceof VkApiError ? `vk-${error.code}` : ((error as Error)?.name ?? 'error');
    pollerErrors.inc({ kind });
    const problem = error instanceof VkApiError ? this.settingsProblemOf(error) : null;
    if (problem) {
      // Fixing it on VK's side needs no restart: the retries find it fixed, and readiness clears with the next key.
      this.settingsProblem = problem;
      this.logger.error({ attempt: this.failures, delayMs, code: (error as VkApiError).code }, problem);
    } else {
      // The long-poll key survives network errors and failed users.get calls; only failed:2/3 replace it.
      this.logger.warn(
        { attempt: this.failures, delayMs, err: (error as Error)?.message ?? String(error) },
        'VK poller hit an error; backing off before retrying',
      );
    }
    await this.sleep(delayMs);
  }

  /** What in the community's settings or Herald's keeps the poller from getting a key, or null for anything else. */
  private settingsProblemOf(error: VkApiError): string | null {
    const groupId = this.config.vk.groupId;
    const retrying = 'the poller retries (at least every OUTBOX_BACKOFF_MAX_MS); a changed VK_GROUP_ID or VK_TOKEN takes a restart';
    if (error.isLongPollOff) {
      return (
        `VK's Long Poll API is off for community ${groupId}: switch it on in the community's settings ` +
        `(Manage → API usage → Long Poll API: Enabled, API version ${this.config.vk.apiVersion}) and tick the event types ` +
        `to route on its "Event types" tab; the poller retries (at least every OUTBOX_BACKOFF_MAX_MS) and starts once it is on`
      );
    }
    if (!error.isCommunityRefused) return null;
    if (error.code === VkErrorCode.AccessDenied) {
      return (
        `VK denied the Long Poll key of community ${groupId} (error 15, access denied): VK_GROUP_ID must be the numeric id of ` +
        "the community VK_TOKEN belongs to (groups.getById called with the token answers it), and VK_TOKEN that community's " +
        'token with the right to manage the community (Manage → API usage → Access tokens: "community management" ticked); ' +
        retrying
      );
    }
    return (
      `VK refused VK_GROUP_ID=${groupId} (${error.message}): is it the community's numeric id? groups.getById ` +
      `called with VK_TOKEN answers it; ${retrying}`
    );
  }

  private stopForAuth(error: VkApiError): void {
    this.status = 'stopped';
    this.authFailure = `VK refused the community token (error ${error.code}); the poller has stopped. Fix VK_TOKEN and restart.`;
    this.logger.error({ code: error.code, groupId: this.config.vk.groupId }, this.authFailure);
    // The lease stays held (and renewed): a standby replica with the same token does not take over only to fail the
    // same way. What was stored is delivered by the outbox regardless.
  }

  private onLeaseLost(): void {
    this.logger.warn({ groupId: this.config.vk.groupId }, 'Lost the VK poller lease to another replica; standing by');
    this.settingsProblem = null; // the holder reports the community's settings now
    this.stopRenewing();
    this.holding = false;
    this.server = null;
    this.ts = null;
    this.status = 'standby';
  }

  private startRenewing(): void {
    this.stopRenewing();
    this.renewTimer = setInterval(() => {
      this.lease.renew().catch((error: unknown) => {
        if (!this.lease.held) {
          // Stop the poll in flight: its key is about to be taken by the new holder anyway.
          this.inFlight?.abort();
        } else {
          this.logger.warn({ err: (error as Error).message }, 'Could not renew the VK poller lease');
        }
      });
    }, LEASE_RENEW_EVERY_MS);
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeFromSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeFromSleep = done;
    });
  }
}
