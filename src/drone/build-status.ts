import { DRONE_STATUSES, DroneBuild, DroneStatus } from './drone-webhook.types';

/**
 * Where a status sits in a build's life. Drone only moves a build forward (blocked → pending → running → done;
 * waiting_on_dependencies is a pending stage), so a delivery with a lower rank than the one already shown is late.
 */
const STATUS_RANK: Record<DroneStatus, number> = {
  blocked: 0,
  pending: 1,
  waiting_on_dependencies: 1,
  running: 2,
  success: 3,
  failure: 3,
  error: 3,
  killed: 3,
  skipped: 3,
  declined: 3,
};

const UNFINISHED: ReadonlySet<DroneStatus> = new Set(['blocked', 'pending', 'waiting_on_dependencies', 'running']);
const FAILED: ReadonlySet<DroneStatus> = new Set(['failure', 'error', 'killed']);

export function isDroneStatus(value: unknown): value is DroneStatus {
  return typeof value === 'string' && (DRONE_STATUSES as readonly string[]).includes(value);
}

export function isFinished(status: DroneStatus): boolean {
  return !UNFINISHED.has(status);
}

export function isFailed(status: DroneStatus): boolean {
  return FAILED.has(status);
}

function pad(value: number | undefined, width: number): string {
  const whole = Number.isFinite(value) ? Math.max(0, Math.floor(value as number)) : 0;
  return String(Math.min(whole, 10 ** width - 1)).padStart(width, '0');
}

/**
 * A string that sorts the snapshots of one build in the order Drone produced them:
 * status rank first (a late `running` never beats `success`), then Drone's own row version (+1 on every
 * stored change of the build), then its `updated` time, then how many stages and steps are done (step updates
 * resend the build without touching its row). Compared as a string so MongoDB can do the comparison in
 * a single conditional update.
 */
export function buildSnapshotOrder(build: DroneBuild): string {
  const done = (build.stages ?? []).reduce(
    (count, stage) =>
      count +
      (isDroneStatus(stage.status) && isFinished(stage.status) ? 1 : 0) +
      (stage.steps ?? []).filter((step) => isDroneStatus(step.status) && isFinished(step.status)).length,
    0,
  );
  return [STATUS_RANK[build.status], pad(build.version, 12), pad(build.updated, 12), pad(done, 6)].join('.');
}
