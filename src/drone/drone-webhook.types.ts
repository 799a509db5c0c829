/**
 * Drone's global webhook payload, as its server marshals it (drone/drone `plugin/webhook/webhook.go`
 * wraps `core.WebhookData` with `system`; field names from the `json` tags in `core/webhook.go`,
 * `core/repo.go`, `core/build.go`, `core/stage.go`, `core/step.go`, `core/user.go`, `core/system.go`).
 * Go's `omitempty` fields are optional here; the rest are always present in what Drone sends.
 */

/** `core.WebhookEvent*` */
export type DroneWebhookEvent = 'build' | 'repo' | 'user';

/** `core.WebhookAction*` */
export type DroneWebhookAction = 'created' | 'updated' | 'deleted' | 'enabled' | 'disabled';

/** `core.Status*` — build, stage and step status. */
export type DroneStatus =
  'skipped' | 'blocked' | 'declined' | 'waiting_on_dependencies' | 'pending' | 'running' | 'success' | 'failure' | 'killed' | 'error';

export const DRONE_STATUSES: readonly DroneStatus[] = [
  'skipped',
  'blocked',
  'declined',
  'waiting_on_dependencies',
  'pending',
  'running',
  'success',
  'failure',
  'killed',
  'error',
];

/** `core.Event*` — what triggered a build. */
export type DroneBuildEvent = 'cron' | 'custom' | 'push' | 'pull_request' | 'tag' | 'promote' | 'rollback';

/** `core.System` — the Drone server that sent the hook (DRONE_SERVER_PROTO / _HOST). */
export interface DroneSystem {
  proto?: string;
  host?: string;
  /** e.g. `https://drone.example.com`; build pages live at `${link}/${repo.slug}/${build.number}`. */
  link?: string;
  version?: string;
}

/** `core.User` */
export interface DroneUser {
  id: number;
  login: string;
  email: string;
  machine: boolean;
  admin: boolean;
  active: boolean;
  avatar: string;
  syncing: boolean;
  synced: number;
  created: number;
  updated: number;
  last_login: number;
}

/** `core.Step` */
export interface DroneStep {
  id: number;
  step_id: number;
  number: number;
  name: string;
  status: DroneStatus;
  error?: string;
  errignore?: boolean;
  exit_code: number;
  started?: number;
  stopped?: number;
  version: number;
  depends_on?: string[];
  image?: string;
  detached?: boolean;
}

/** `core.Stage` (a pipeline) */
export interface DroneStage {
  id: number;
  repo_id: number;
  build_id: number;
  number: number;
  name: string;
  kind?: string;
  type?: string;
  status: DroneStatus;
  error?: string;
  errignore: boolean;
  exit_code: number;
  machine?: string;
  os: string;
  arch: string;
  variant?: string;
  kernel?: string;
  limit?: number;
  throttle?: number;
  started: number;
  stopped: number;
  created: number;
  updated: number;
  version: number;
  on_success: boolean;
  on_failure: boolean;
  depends_on?: string[];
  labels?: Record<string, string>;
  steps?: DroneStep[];
}

/** `core.Build`. Times are unix seconds; 0 when not reached yet. */
export interface DroneBuild {
  id: number;
  repo_id: number;
  trigger: string;
  number: number;
  parent?: number;
  status: DroneStatus;
  error?: string;
  event: DroneBuildEvent;
  action: string;
  link: string;
  timestamp: number;
  title?: string;
  message: string;
  before: string;
  after: string;
  ref: string;
  source_repo: string;
  source: string;
  target: string;
  author_login: string;
  author_name: string;
  author_email: string;
  author_avatar: string;
  sender: string;
  params?: Record<string, string>;
  cron?: string;
  deploy_to?: string;
  deploy_id?: number;
  debug?: boolean;
  started: number;
  finished: number;
  created: number;
  updated: number;
  /** Drone's optimistic-lock counter: +1 on every stored change of the build row. */
  version: number;
  stages?: DroneStage[];
}

/** `core.Repository` (secrets are `json:"-"` and never sent). */
export interface DroneRepository {
  id: number;
  uid: string;
  user_id: number;
  namespace: string;
  name: string;
  slug: string;
  scm: string;
  git_http_url: string;
  git_ssh_url: string;
  link: string;
  default_branch: string;
  private: boolean;
  visibility: string;
  active: boolean;
  config_path: string;
  trusted: boolean;
  protected: boolean;
  ignore_forks: boolean;
  ignore_pull_requests: boolean;
  auto_cancel_pull_requests: boolean;
  auto_cancel_pushes: boolean;
  timeout: number;
  throttle?: number;
  counter: number;
  synced: number;
  created: number;
  updated: number;
  version: number;
  build?: DroneBuild;
}

/** `webhook.payload`: `core.WebhookData` plus the sending server's `core.System`. */
export interface DroneWebhookPayload {
  /** One of `DroneWebhookEvent`, or another a newer Drone sends (ignored). */
  event: string;
  /** One of `DroneWebhookAction`, or another a newer Drone sends. */
  action: string;
  user?: DroneUser;
  repo?: DroneRepository;
  build?: DroneBuild;
  system?: DroneSystem;
}

/** The headers Drone's sender sets on every delivery (`webhook.go` `send`). */
export const DRONE_HEADERS = {
  event: 'X-Drone-Event',
  date: 'Date',
  digest: 'Digest',
  signature: 'Signature',
} as const;
