import { APIEmbed, APIEmbedField, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { cutToDiscordLength } from '../discord-api/discord-limits';
import { isFailed, isFinished } from './build-status';
import { DroneBuild, DroneRepository, DroneStatus, DroneSystem } from './drone-webhook.types';

export interface BuildSnapshot {
  repo: DroneRepository;
  build: DroneBuild;
  system?: DroneSystem;
}

export const STATUS_COLOURS = {
  inProgress: 0xf1c40f,
  success: 0x2ecc71,
  failure: 0xe74c3c,
  waiting: 0x3498db,
  inactive: 0x95a5a6,
} as const;

const STATUS_LOOK: Record<DroneStatus, { emoji: string; label: string; colour: number }> = {
  pending: { emoji: '⏳', label: 'Pending', colour: STATUS_COLOURS.inProgress },
  running: { emoji: '🔄', label: 'Running', colour: STATUS_COLOURS.inProgress },
  success: { emoji: '✅', label: 'Passed', colour: STATUS_COLOURS.success },
  failure: { emoji: '❌', label: 'Failed', colour: STATUS_COLOURS.failure },
  error: { emoji: '❌', label: 'Errored', colour: STATUS_COLOURS.failure },
  killed: { emoji: '❌', label: 'Killed', colour: STATUS_COLOURS.failure },
  blocked: { emoji: '⏸️', label: 'Blocked, waiting for approval', colour: STATUS_COLOURS.waiting },
  waiting_on_dependencies: { emoji: '⏸️', label: 'Waiting on dependencies', colour: STATUS_COLOURS.waiting },
  skipped: { emoji: '⏭️', label: 'Skipped', colour: STATUS_COLOURS.inactive },
  declined: { emoji: '🚫', label: 'Declined', colour: STATUS_COLOURS.inactive },
};

/** Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
const LIMITS = { title: 256, description: 4096, fieldValue: 1024, authorName: 256 };

/** The link to the build's page in Drone's UI. */
export function droneBuildLink(snapshot: BuildSnapshot): string | undefined {
  const base = snapshot.system?.link || (snapshot.system?.host ? `${snapshot.system.proto || 'https'}://${snapshot.system.host}` : '');
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/${snapshot.repo.slug}/${snapshot.build.number}`;
}

/** The message a build is shown as; the same body is used to post and to edit it. */
export function renderBuildMessage(snapshot: BuildSnapshot): RESTPostAPIChannelMessageJSONBody {
  return { embeds: [renderBuildEmbed(snapshot)], allowed_mentions: { parse: [] } };
}

export function renderBuildEmbed(snapshot: BuildSnapshot): APIEmbed {
  const { build, repo } = snapshot;
  const look = STATUS_LOOK[build.status];
  const fields: APIEmbedField[] = [
    { name: 'Status', value: look.label, inline: true },
    { name: 'Event', value: describeEvent(build), inline: true },
    refField(build),
  ];
  const duration = buildDuration(build);
  if (duration !== undefined) fields.push({ name: 'Duration', value: duration, inline: true });
  const { failed, cancelled } = unfinishedStepNames(build);
  if (failed.length > 0) fields.push({ name: 'Failed', value: truncate(failed.map(escapeMarkdown).join('\n'), LIMITS.fieldValue) });
  if (cancelled.length > 0) fields.push({ name: 'Cancelled', value: truncate(cancelled.map(escapeMarkdown).join('\n'), LIMITS.fieldValue) });
  if (build.error) fields.push({ name: 'Error', value: truncate(escapeMarkdown(build.error), LIMITS.fieldValue) });

  const embed: APIEmbed = {
    title: truncate(`${look.emoji} ${repo.slug} #${build.number}`, LIMITS.title),
    color: look.colour,
    description: truncate(commitLine(build), LIMITS.description),
    fields,
    footer: { text: snapshot.system?.host ? `Drone · ${snapshot.system.host}` : 'Drone' },
  };
  const link = droneBuildLink(snapshot);
  if (link) embed.url = link;
  const author = build.author_name || build.author_login;
  if (author) {
    embed.author = { name: truncate(author, LIMITS.authorName) };
    if (/^https?:\/\//.test(build.author_avatar ?? '')) embed.author.icon_url = build.author_avatar;
  }
  if (build.created > 0) embed.timestamp = new Date(build.created * 1000).toISOString();
  return embed;
}

function describeEvent(build: DroneBuild): string {
  switch (build.event) {
    case 'push':
      return 'Push';
    case 'pull_request':
      return 'Pull request';
    case 'tag':
      return 'Tag';
    case 'promote':
      return build.deploy_to ? `Promote to ${build.deploy_to}` : 'Promote';
    case 'rollback':
      return build.deploy_to ? `Rollback of ${build.deploy_to}` : 'Rollback';
    case 'cron':
      return build.cron ? `Cron (${build.cron})` : 'Cron';
    case 'custom':
      return 'Custom';
    default:
      return String(build.event || 'unknown');
  }
}

function refField(build: DroneBuild): APIEmbedField {
  if (build.event === 'tag' || build.ref?.startsWith('refs/tags/')) {
    return { name: 'Tag', value: inlineCode(build.ref.replace(/^refs\/tags\//, '')), inline: true };
  }
  if (build.event === 'pull_request') {
    const number = /^refs\/pull(?:-requests)?\/(\d+)\//.exec(build.ref ?? '')?.[1];
    const branches =
      build.source && build.target ? `${inlineCode(build.source)} → ${inlineCode(build.target)}` : inlineCode(build.target || build.source);
    return { name: 'Branch', value: number ? `#${number} ${branches}` : branches, inline: true };
  }
  return { name: 'Branch', value: inlineCode(build.target || build.ref?.replace(/^refs\/heads\//, '') || '?'), inline: true };
}

function commitLine(build: DroneBuild): string {
  const sha = (build.after || build.before || '').slice(0, 7);
  const subject = escapeMarkdown(truncate((build.title || build.message || '').split('\n')[0].trim(), 200));
  if (!sha) return subject || '\u200b';
  const commit = /^https?:\/\//.test(build.link ?? '') ? `[${inlineCode(sha)}](${build.link})` : inlineCode(sha);
  return subject ? `${commit} ${subject}` : commit;
}

/** "1h 2m 3s" once the build has finished; undefined before that. */
export function buildDuration(build: DroneBuild): string | undefined {
  if (!isFinished(build.status) || !(build.started > 0) || !(build.finished >= build.started)) return undefined;
  let seconds = Math.round(build.finished - build.started);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const parts = [hours ? `${hours}h` : '', hours || minutes ? `${minutes}m` : '', `${seconds}s`].filter(Boolean);
  return parts.join(' ');
}

/**
 * "stage › step" for each step that failed (`failure`, `error`) and each one a cancel stopped while it ran: Drone's
 * canceler marks a running step `killed` (exit code 130) and one not started yet `skipped`, so a killed step did not
 * fail and is not shown as failed. A `failure: ignore` step does not fail a build; a stage that failed without a
 * failed step (it stopped before its steps) is named by its own status.
 */
export function unfinishedStepNames(build: DroneBuild): { failed: string[]; cancelled: string[] } {
  const names = { failed: [] as string[], cancelled: [] as string[] };
  if (!isFailed(build.status)) return names;
  const add = (name: string, status: DroneStatus) => (status === 'killed' ? names.cancelled : names.failed).push(name);
  for (const stage of build.stages ?? []) {
    const steps = (stage.steps ?? []).filter((step) => isFailed(step.status) && !step.errignore);
    for (const step of steps) add(`${stage.name} › ${step.name}`, step.status);
    if (steps.length === 0 && isFailed(stage.status) && !stage.errignore) add(stage.name, stage.status);
  }
  return names;
}

function inlineCode(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

/** Commit messages and names are shown as text, never as Discord markdown. */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_~|>[\]#])/g, '\\$1');
}

/** At most `max` characters as Discord counts them, ending in `…` when cut (`cutToDiscordLength`). */
export function truncate(text: string, max: number): string {
  return cutToDiscordLength(text, max, '…');
}
