import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { STATUS_COLOURS, escapeMarkdown, truncate } from './build-message.view';
import type { DroneRepository, DroneSystem, DroneUser } from './drone-webhook.types';

const TITLE_MAX = 256;

function serverLink(system: DroneSystem | undefined): string | undefined {
  const base = system?.link || (system?.host ? `${system.proto || 'https'}://${system.host}` : '');
  return base ? base.replace(/\/+$/, '') : undefined;
}

/** `user:created` / `user:deleted`: one message, as drone-discord posted for a user joining or leaving the server. */
export function renderUserMessage(action: 'created' | 'deleted', user: DroneUser, system?: DroneSystem): RESTPostAPIChannelMessageJSONBody {
  const link = serverLink(system);
  return {
    embeds: [
      {
        title: truncate(action === 'created' ? `👤 Drone user ${user.login} created` : `👤 Drone user ${user.login} deleted`, TITLE_MAX),
        color: action === 'created' ? STATUS_COLOURS.success : STATUS_COLOURS.inactive,
        ...(link ? { url: link } : {}),
        fields: [
          { name: 'Login', value: escapeMarkdown(user.login), inline: true },
          ...(user.admin ? [{ name: 'Role', value: 'Administrator', inline: true }] : []),
          ...(user.machine ? [{ name: 'Kind', value: 'Machine account', inline: true }] : []),
        ],
        ...(user.avatar ? { thumbnail: { url: user.avatar } } : {}),
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/** `repo:enabled` / `repo:disabled`: one message when a repository starts or stops building on Drone. */
export function renderRepoMessage(
  action: 'enabled' | 'disabled',
  repo: DroneRepository,
  user?: DroneUser,
  system?: DroneSystem,
): RESTPostAPIChannelMessageJSONBody {
  const link = serverLink(system);
  return {
    embeds: [
      {
        title: truncate(action === 'enabled' ? `📦 ${repo.slug} enabled on Drone` : `📦 ${repo.slug} disabled on Drone`, TITLE_MAX),
        color: action === 'enabled' ? STATUS_COLOURS.success : STATUS_COLOURS.inactive,
        ...(link ? { url: `${link}/${repo.slug}` } : {}),
        fields: [
          { name: 'Repository', value: escapeMarkdown(repo.slug), inline: true },
          ...(user?.login ? [{ name: 'By', value: escapeMarkdown(user.login), inline: true }] : []),
          ...(repo.link ? [{ name: 'Source', value: repo.link, inline: true }] : []),
        ],
      },
    ],
    allowed_mentions: { parse: [] },
  };
}
