import { Injectable, Logger } from '@nestjs/common';
import { withTimeout } from '../common/timeouts';
import { errorMessage } from '../common/errors';

/** One readiness check. A required check that fails makes the service unready (503, presence dnd); an optional one degrades it (presence idle). */
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

/** The readiness checks every module contributes; read by the /health/ready probe and by the bot's presence. */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger(ReadinessService.name);
  private readonly checks = new Map<string, ReadinessCheck>();
  private running?: Promise<ReadinessReport>;
  private lastStatus?: ReadinessStatus;
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
    if (status !== this.lastStatus) {
      const log = status === 'up' ? 'log' : 'warn';
      this.logger[log]({ status, failed: [...failedRequired, ...failedOptional] }, `Readiness is now ${status}`);
      this.lastStatus = status;
    }
    return { status, failed: [...failedRequired, ...failedOptional], outcomes };
  }

  private async runOne(check: ReadinessCheck): Promise<CheckOutcome> {
    const started = Date.now();
    try {
      await withTimeout(check.check(), CHECK_TIMEOUT_MS, () => new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
      return { name: check.name, required: check.required, up: true, ms: Date.now() - started };
    } catch (error) {
      const message = errorMessage(error);
      return { name: check.name, required: check.required, up: false, message, ms: Date.now() - started };
    }
  }
}
