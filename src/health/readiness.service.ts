import { Injectable, Logger } from '@nestjs/common';
import { withTimeout } from '../common/timeouts';
import { errorMessage } from '../common/errors';

/**
 * One readiness check. `required` is for what belongs to this replica alone (its own Chromium): failing, it takes the
 * replica out of rotation (503, presence dnd), where another replica may do better. A dependency every replica shares
 * (MongoDB, S3, RabbitMQ, Redis, the backend, Discord, VK) is never required: failing, it degrades the service (200
 * with the reason, presence idle), so the replica stays and answers its own 503 + Retry-After naming the dependency to
 * the requests that need it, and serves those that do not. Taking every replica out at once for a shared outage would
 * turn a partial outage into a total one.
 */
export interface ReadinessCheck {
  name: string;
  required: boolean;
  /** Resolves when healthy; rejects (or times out) with a reason an operator can act on. */
  check(): Promise<void>;
}

export interface CheckOutcome {
  name: string;
  required: boolean;
  up: boolean;
  message?: string;
  ms: number;
}

export type ReadinessStatus = 'up' | 'degraded' | 'down';

export interface ReadinessReport {
  status: ReadinessStatus;
  /** Names of the checks that failed, required first. */
  failed: string[];
  outcomes: CheckOutcome[];
}

const CHECK_TIMEOUT_MS = 3000;

/** The reason a check reads while its first run, the one since start-up, has not answered yet. */
export const STARTING = 'starting: its first check has not answered yet';

/** The readiness checks every module contributes; read by the /health/ready probe and by the bot's presence. */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger(ReadinessService.name);
  private readonly checks = new Map<string, ReadinessCheck>();
  private running?: Promise<ReadinessReport>;
  /** What the last run's transition line said: the status and each failing check's reason. */
  private lastState?: string;
  /** The checks that have answered (up or down) at least once; until then a timeout reads as STARTING. */
  private readonly answered = new Set<string>();
  private isStopping = false;
  private readonly stoppingListeners: (() => void)[] = [];

  /**
   * The process is shutting down: from now on readiness is down, so load balancers stop sending requests, and what
   * asked to hear of it (`onStopping`) is told before the HTTP drain begins.
   */
  stopping(): void {
    this.isStopping = true;
    for (const listener of this.stoppingListeners.splice(0)) {
      try {
        listener();
      } catch (error) {
        this.logger.error({ err: error }, 'A shutdown listener failed');
      }
    }
  }

  /** `listener` runs once when the shutdown begins (e.g. Notify answers the requests still waiting for Discord). */
  onStopping(listener: () => void): void {
    this.stoppingListeners.push(listener);
  }

  register(check: ReadinessCheck): void {
    this.checks.set(check.name, check);
  }

  /** Runs every check at once; concurrent callers share one run so probes can't pile up on a slow dependency. */
  check(): Promise<ReadinessReport> {
    this.running ??= this.runChecks().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runChecks(): Promise<ReadinessReport> {
    const outcomes = await Promise.all([...this.checks.values()].map((check) => this.runOne(check)));
    if (this.isStopping) outcomes.unshift({ name: 'shutdown', required: true, up: false, message: 'Herald is shutting down', ms: 0 });
    const failedRequired = outcomes.filter((outcome) => !outcome.up && outcome.required).map((outcome) => outcome.name);
    const failedOptional = outcomes.filter((outcome) => !outcome.up && !outcome.required).map((outcome) => outcome.name);
    const status: ReadinessStatus = failedRequired.length ? 'down' : failedOptional.length ? 'degraded' : 'up';
    this.logTransition(status, outcomes);
    return { status, failed: [...failedRequired, ...failedOptional], outcomes };
  }

  /**
   * One line when the status or a failing check's reason changes (not one per probe): `down` and `degraded` carry each
   * failing check's reason as a field of `checks`, and which of them take the replica out of rotation.
   */
  private logTransition(status: ReadinessStatus, outcomes: CheckOutcome[]): void {
    const failing = outcomes.filter((outcome) => !outcome.up);
    const checks = Object.fromEntries(failing.map((outcome) => [outcome.name, outcome.message ?? 'failed']));
    const state = JSON.stringify([status, checks]);
    if (state === this.lastState) return;
    this.lastState = state;
    const failed = failing.map((outcome) => outcome.name);
    const ownFailed = failing.filter((outcome) => outcome.required).map((outcome) => outcome.name);
    if (status === 'up') this.logger.log({ status }, 'Readiness is now up');
    else this.logger.warn({ status, failed, outOfRotation: ownFailed, checks }, `Readiness is now ${status}: ${failed.join(', ')}`);
  }

  private async runOne(check: ReadinessCheck): Promise<CheckOutcome> {
    const started = Date.now();
    const answered = (up: boolean) => {
      this.answered.add(check.name);
      return up;
    };
    const pending = check.check().then(
      () => answered(true),
      (error: unknown) => {
        answered(false);
        throw error;
      },
    );
    try {
      await withTimeout(
        pending,
        CHECK_TIMEOUT_MS,
        () => new Error(this.answered.has(check.name) ? `no answer within ${CHECK_TIMEOUT_MS} ms` : STARTING),
      );
      return { name: check.name, required: check.required, up: true, ms: Date.now() - started };
    } catch (error) {
      const message = errorMessage(error);
      return { name: check.name, required: check.required, up: false, message, ms: Date.now() - started };
    }
  }
}
