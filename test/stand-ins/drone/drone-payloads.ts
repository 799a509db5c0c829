/**
 * Payloads shaped like the ones a Drone server sends for one build as it moves on (field names and
 * presence as drone/drone's core structs marshal them, including `omitempty`).
 */
import type {
  DroneBuild,
  DroneRepository,
  DroneStage,
  DroneStatus,
  DroneStep,
  DroneSystem,
  DroneUser,
  DroneWebhookPayload,
} from '../../../src/drone/drone-webhook.types';

export interface BuildScenario {
  repoId: number;
  slug: string;
  buildId: number;
  buildNumber: number;
  system: DroneSystem;
  /** unix seconds the build was created at */
  createdAt: number;
}

let nextId = Math.floor(Date.now() / 1000) % 100000;

/** A fresh build of a fresh repository, so tests sharing one database never collide. */
export function newBuildScenario(overrides: Partial<BuildScenario> = {}): BuildScenario {
  nextId += 1;
  const createdAt = Math.floor(Date.now() / 1000) - 600;
  return {
    repoId: 500 + nextId,
    slug: `octocat/hello-world-${nextId}`,
    buildId: 90000 + nextId,
    buildNumber: 40 + (nextId % 50),
    system: { proto: 'https', host: 'drone.example.com', link: 'https://drone.example.com', version: '2.26.0' },
    createdAt,
    ...overrides,
  };
}

function repository(scenario: BuildScenario): DroneRepository {
  const [namespace, name] = scenario.slug.split('/');
  return {
    id: scenario.repoId,
    uid: String(1000 + scenario.repoId),
    user_id: 1,
    namespace,
    name,
    slug: scenario.slug,
    scm: '',
    git_http_url: `https://github.com/${scenario.slug}.git`,
    git_ssh_url: `git@github.com:${scenario.slug}.git`,
    link: `https://github.com/${scenario.slug}`,
    default_branch: 'main',
    private: false,
    visibility: 'public',
    active: true,
    config_path: '.drone.yml',
    trusted: false,
    protected: false,
    ignore_forks: false,
    ignore_pull_requests: false,
    auto_cancel_pull_requests: false,
    auto_cancel_pushes: false,
    timeout: 60,
    counter: scenario.buildNumber,
    synced: 0,
    created: scenario.createdAt - 86400,
    updated: scenario.createdAt - 86400,
    version: 3,
  };
}

function step(stageId: number, number: number, name: string, status: DroneStatus, started: number): DroneStep {
  const done = !['pending', 'running', 'blocked', 'waiting_on_dependencies'].includes(status);
  return {
    id: stageId * 10 + number,
    step_id: stageId,
    number,
    name,
    status,
    exit_code: status === 'failure' ? 2 : 0,
    ...(status === 'pending' ? {} : { started }),
    ...(done ? { stopped: started + 30 } : {}),
    version: done ? 3 : status === 'pending' ? 1 : 2,
    image: 'docker.io/library/node:20',
  };
}

export interface StageShape {
  name: string;
  status: DroneStatus;
  steps: Array<[string, DroneStatus]>;
}

/** Stages for a build status, unless the test gives its own. */
function stagesFor(status: DroneStatus, progress: number): StageShape[] {
  switch (status) {
    case 'pending':
      return [{ name: 'default', status: 'pending', steps: [] }];
    case 'running': {
      const names = ['clone', 'install', 'test', 'publish'];
      return [
        {
          name: 'default',
          status: 'running',
          steps: names.map((name, index): [string, DroneStatus] => [name, index < progress ? 'success' : index === progress ? 'running' : 'pending']),
        },
      ];
    }
    case 'failure':
      return [
        {
          name: 'default',
          status: 'failure',
          steps: [
            ['clone', 'success'],
            ['install', 'success'],
            ['test', 'failure'],
            ['publish', 'skipped'],
          ],
        },
      ];
    default:
      return [
        {
          name: 'default',
          status,
          steps: [
            ['clone', status],
            ['install', status],
            ['test', status],
            ['publish', status],
          ],
        },
      ];
  }
}

export interface BuildEventOptions {
  action?: 'created' | 'updated';
  status: DroneStatus;
  /** Drone's build row version; defaults to a value that grows with the status. */
  version?: number;
  /** finished steps while running */
  progress?: number;
  stages?: StageShape[];
  event?: DroneBuild['event'];
  ref?: string;
  source?: string;
  target?: string;
  message?: string;
  durationSeconds?: number;
  error?: string;
}

const DEFAULT_VERSION: Partial<Record<DroneStatus, number>> = { pending: 1, running: 2 };

/** One `build` webhook as Drone would send it for the scenario's build in the given state. */
export function droneBuildEvent(scenario: BuildScenario, options: BuildEventOptions): DroneWebhookPayload {
  const status = options.status;
  const progress = options.progress ?? 0;
  const started = status === 'pending' || status === 'blocked' ? 0 : scenario.createdAt + 5;
  const finished = ['pending', 'running', 'blocked', 'waiting_on_dependencies'].includes(status) ? 0 : started + (options.durationSeconds ?? 125);
  const version = options.version ?? DEFAULT_VERSION[status] ?? 3;
  const stageShapes = options.stages ?? stagesFor(status, progress);
  const buildId = scenario.buildId;
  const stages: DroneStage[] = stageShapes.map((shape, index) => {
    const stageId = buildId * 10 + index + 1;
    return {
      id: stageId,
      repo_id: scenario.repoId,
      build_id: buildId,
      number: index + 1,
      name: shape.name,
      kind: 'pipeline',
      type: 'docker',
      status: shape.status,
      errignore: false,
      exit_code: shape.status === 'failure' ? 2 : 0,
      machine: 'runner-1',
      os: 'linux',
      arch: 'amd64',
      started,
      stopped: finished,
      created: scenario.createdAt,
      updated: scenario.createdAt + progress + (finished ? finished - scenario.createdAt : 0),
      version,
      on_success: true,
      on_failure: false,
      ...(shape.steps.length > 0 ? { steps: shape.steps.map(([name, stepStatus], n) => step(stageId, n + 1, name, stepStatus, started)) } : {}),
    };
  });
  const build: DroneBuild = {
    id: buildId,
    repo_id: scenario.repoId,
    trigger: '@hook',
    number: scenario.buildNumber,
    status,
    ...(options.error ? { error: options.error } : {}),
    event: options.event ?? 'push',
    action: '',
    link: `https://github.com/${scenario.slug}/commit/9fceb02d0ae598e95dc970b74767f19372d61af8`,
    timestamp: 0,
    message: options.message ?? 'Fix the flaky upload test\n\nThe retry now waits for the bucket.',
    before: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
    after: '9fceb02d0ae598e95dc970b74767f19372d61af8',
    ref: options.ref ?? 'refs/heads/main',
    source_repo: '',
    source: options.source ?? 'main',
    target: options.target ?? 'main',
    author_login: 'octocat',
    author_name: 'The Octocat',
    author_email: 'octocat@github.com',
    author_avatar: 'https://avatars.githubusercontent.com/u/583231?v=4',
    sender: 'octocat',
    started,
    finished,
    created: scenario.createdAt,
    updated: scenario.createdAt + version + progress,
    version,
    ...(stages.length > 0 ? { stages } : {}),
  };
  const payload: DroneWebhookPayload = {
    event: 'build',
    action: options.action ?? (status === 'pending' ? 'created' : 'updated'),
    ...(options.action === 'created' || (!options.action && status === 'pending') ? { user: droneUser() } : {}),
    repo: repository(scenario),
    build,
    system: scenario.system,
  };
  return payload;
}

function droneUser(): DroneUser {
  return {
    id: 1,
    login: 'octocat',
    email: 'octocat@github.com',
    machine: false,
    admin: true,
    active: true,
    avatar: 'https://avatars.githubusercontent.com/u/583231?v=4',
    syncing: false,
    synced: 0,
    created: 1600000000,
    updated: 1600000000,
    last_login: 1700000000,
  };
}

/**
 * `user:created` / `user:deleted` as Drone's `api/users` handlers send them: `core.WebhookData{Event: "user", Action,
 * User}` plus `system` (see docs.drone.io's webhook payload page: `X-Drone-Event: user`, `{"action": "created", "user": …}`).
 */
export function droneUserEvent(action: 'created' | 'deleted', login: string, system: DroneSystem = newBuildScenario().system): DroneWebhookPayload {
  return { event: 'user', action, user: { ...droneUser(), id: 100 + (nextId += 1), login, email: `${login}@example.com`, admin: false }, system };
}

/** `repo:enabled` / `repo:disabled` as Drone's `api/repos` handlers send them: the repository and the user who did it. */
export function droneRepoEvent(action: 'enabled' | 'disabled', scenario: BuildScenario): DroneWebhookPayload {
  return { event: 'repo', action, repo: { ...repository(scenario), active: action === 'enabled' }, user: droneUser(), system: scenario.system };
}
