import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Outbox, outcome } from '../outbox/outbox';
import { DashboardCatalog } from './dashboard-catalog';
import { DashboardService } from './dashboard.service';
import { parseSchedule } from './dashboards-file';
import { SCHEDULER_LEASE_MS, SchedulerLease } from './scheduler-lease';

export const DASHBOARD_RENDER_QUEUE = 'metrics-dashboard';
const LOOK_EVERY_MS = 1000;

interface ScheduledRender {
  dashboard: string;
  /** The tick this render is for (ISO time). */
  tick: string;
}

/**
 * Re-renders dashboards that have a schedule. One replica, the holder of the scheduler lease, turns each due cron
 * tick into an outbox job keyed by dashboard and tick; the key makes the tick one job however many replicas (or an
 * old and a new lease holder) enqueue it, and the outbox runs it once, retrying it if a replica dies mid-render.
 */
@Injectable()
export class DashboardScheduler implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DashboardScheduler.name);
  private readonly startedAt = new Date();
  /** The last tick enqueued per dashboard by this replica (saves a lookup per look). */
  private readonly enqueued = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private leading = false;

  constructor(
    private readonly catalog: DashboardCatalog,
    private readonly dashboards: DashboardService,
    private readonly outbox: Outbox,
    private readonly lease: SchedulerLease,
  ) {}

  onModuleInit(): void {
    this.outbox.register<ScheduledRender>(
      DASHBOARD_RENDER_QUEUE,
      async (job) => {
        const dashboard = this.catalog.find(job.payload.dashboard);
        if (!dashboard) return outcome.done(`dashboard ${job.payload.dashboard} is no longer configured`);
        await this.dashboards.render(dashboard, 'schedule', job.payload.tick);
        return outcome.done();
      },
      // A lane per dashboard, a render per schedule tick: the lane is empty between ticks.
      { shortLanes: true },
    );
  }

  onApplicationBootstrap(): void {
    if (this.catalog.scheduled.length === 0) return;
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.lease.release().catch((error: unknown) => this.logger.warn({ err: error }, 'Could not hand back the scheduler lease'));
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => void this.look(), delayMs);
  }

  private async look(): Promise<void> {
    try {
      const now = new Date();
      const leading = await this.lease.hold(now);
      if (leading !== this.leading)
        this.logger.log({ holder: this.lease.holder }, leading ? 'Running the dashboard schedules' : 'Another replica runs the dashboard schedules');
      this.leading = leading;
      if (leading) await this.enqueueDueTicks(now);
    } catch (error) {
      this.logger.warn({ err: error }, 'Looking at the dashboard schedules failed; trying again');
    } finally {
      this.schedule(LOOK_EVERY_MS);
    }
  }

  /**
   * The latest tick of each schedule that is due, unless it is older than this replica or the lease: a new holder
   * catches the tick its predecessor may have missed while dying, and the job key stops it from running twice.
   */
  private async enqueueDueTicks(now: Date): Promise<void> {
    const oldest = Math.max(this.startedAt.getTime(), now.getTime() - 2 * SCHEDULER_LEASE_MS);
    for (const dashboard of this.catalog.scheduled) {
      const tick = parseSchedule(dashboard.schedule!, now)?.prev().getTime();
      if (tick === undefined || tick < oldest || this.enqueued.get(dashboard.name) === tick) continue;
      const at = new Date(tick).toISOString();
      await this.outbox.enqueue<ScheduledRender>({
        queue: DASHBOARD_RENDER_QUEUE,
        lane: `${DASHBOARD_RENDER_QUEUE}:${dashboard.name}`,
        key: `${DASHBOARD_RENDER_QUEUE}:${dashboard.name}:${at}`,
        payload: { dashboard: dashboard.name, tick: at },
      });
      this.enqueued.set(dashboard.name, tick);
    }
  }
}
