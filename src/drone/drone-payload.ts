import { isDroneStatus } from './build-status';
import type { BuildSnapshot } from './build-message.view';
import type { DroneBuild, DroneRepository, DroneSystem, DroneUser } from './drone-webhook.types';

/** What a verified delivery means for us. */
export type DroneDelivery =
  | { kind: 'build'; action: 'created' | 'updated'; snapshot: BuildSnapshot }
  | { kind: 'user'; action: 'created' | 'deleted'; user: DroneUser; system?: DroneSystem }
  | { kind: 'repo'; action: 'enabled' | 'disabled'; repo: DroneRepository; user?: DroneUser; system?: DroneSystem }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Reads a parsed webhook body. `build:created` and `build:updated` become the build's message; `user:created`,
 * `user:deleted`, `repo:enabled` and `repo:disabled` become one message each (what drone-discord posted); anything
 * else (and anything a newer Drone adds) is ignored. A hook without the fields we key on is malformed.
 */
export function readDroneDelivery(body: unknown): DroneDelivery {
  if (!isObject(body)) return { kind: 'malformed', reason: 'body must be a JSON object' };
  const { event, action } = body;
  if (typeof event !== 'string' || event === '') return { kind: 'malformed', reason: 'event must be a non-empty string' };
  if (typeof action !== 'string') return { kind: 'malformed', reason: 'action must be a string' };
  if (event === 'user' && (action === 'created' || action === 'deleted')) return readUserDelivery(body, action);
  if (event === 'repo' && (action === 'enabled' || action === 'disabled')) return readRepoDelivery(body, action);
  if (event !== 'build' || (action !== 'created' && action !== 'updated')) {
    return { kind: 'ignored', reason: `event ${event}:${action} is not one Herald shows` };
  }

  const { repo, build, system } = body;
  if (!isObject(repo)) return { kind: 'malformed', reason: 'repo must be an object' };
  if (!isId(repo.id)) return { kind: 'malformed', reason: 'repo.id must be a non-negative integer' };
  if (typeof repo.slug !== 'string' || !repo.slug.includes('/')) return { kind: 'malformed', reason: 'repo.slug must look like owner/name' };
  if (!isObject(build)) return { kind: 'malformed', reason: 'build must be an object' };
  if (!isId(build.id)) return { kind: 'malformed', reason: 'build.id must be a non-negative integer' };
  if (!isId(build.number)) return { kind: 'malformed', reason: 'build.number must be a non-negative integer' };
  if (typeof build.status !== 'string') return { kind: 'malformed', reason: 'build.status must be a string' };
  if (!isDroneStatus(build.status)) return { kind: 'ignored', reason: `build status "${build.status}" is not one Drone defines` };
  if (system !== undefined && !isObject(system)) return { kind: 'malformed', reason: 'system must be an object' };

  // Beyond the keys above the body is Drone's own marshalled struct; it is trusted as such once signed.
  return {
    kind: 'build',
    action,
    snapshot: {
      repo: repo as unknown as DroneRepository,
      build: build as unknown as DroneBuild,
      system: system,
    },
  };
}

/** `user:created` / `user:deleted` (drone `api/users`): the user, and the server in `system`. */
function readUserDelivery(body: Record<string, unknown>, action: 'created' | 'deleted'): DroneDelivery {
  const { user, system } = body;
  if (!isObject(user)) return { kind: 'malformed', reason: 'user must be an object' };
  if (typeof user.login !== 'string' || user.login === '') return { kind: 'malformed', reason: 'user.login must be a non-empty string' };
  if (system !== undefined && !isObject(system)) return { kind: 'malformed', reason: 'system must be an object' };
  return { kind: 'user', action, user: user as unknown as DroneUser, system: system as DroneSystem | undefined };
}

/** `repo:enabled` / `repo:disabled` (drone `api/repos`): the repository and the user who did it. */
function readRepoDelivery(body: Record<string, unknown>, action: 'enabled' | 'disabled'): DroneDelivery {
  const { repo, user, system } = body;
  if (!isObject(repo)) return { kind: 'malformed', reason: 'repo must be an object' };
  if (typeof repo.slug !== 'string' || !repo.slug.includes('/')) return { kind: 'malformed', reason: 'repo.slug must look like owner/name' };
  if (user !== undefined && !isObject(user)) return { kind: 'malformed', reason: 'user must be an object' };
  if (system !== undefined && !isObject(system)) return { kind: 'malformed', reason: 'system must be an object' };
  return {
    kind: 'repo',
    action,
    repo: repo as unknown as DroneRepository,
    user: user as DroneUser | undefined,
    system: system as DroneSystem | undefined,
  };
}
