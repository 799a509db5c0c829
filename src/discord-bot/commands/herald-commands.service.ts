import { Injectable } from '@nestjs/common';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  type APIEmbed,
  type APIEmbedField,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { errorMessage } from '../../common/errors';
import { ReadinessService, type ReadinessReport } from '../../health/readiness.service';
import { NotificationStore } from '../../notify/notification.store';
import { toView } from '../../notify/notify.service';
import { presenceFor } from '../presence.service';
import { BuildRecords } from './build-records';
import { CommandAccess } from './command-access';
import { CommandRefusal, InteractionReplies, type CommandAnswer } from './interaction-replies';

const STATUS_LOOK = {
  up: { colour: 0x2ecc71, title: 'Herald is up' },
  degraded: { colour: 0xf1c40f, title: 'Herald is degraded' },
  down: { colour: 0xe74c3c, title: 'Herald is down' },
} as const;

const FIELD_VALUE_MAX = 1024;

/** /herald status, build and notify-status: Herald's state, answered to the member who asked (ephemeral). */
@Injectable()
export class HeraldCommandsService {
  constructor(
    private readonly client: Client,
    private readonly readiness: ReadinessService,
    private readonly builds: BuildRecords,
    private readonly notifications: NotificationStore,
    private readonly access: CommandAccess,
    private readonly replies: InteractionReplies,
  ) {}

  status(interaction: ChatInputCommandInteraction): Promise<void> {
    return this.replies.answer(
      interaction,
      async () => {
        this.access.requireAllowed(interaction);
        return { embeds: [statusEmbed(await this.readiness.check())] };
      },
      { ephemeral: true },
    );
  }

  build(interaction: ChatInputCommandInteraction, repository: string, number: number | null): Promise<void> {
    return this.replies.answer(
      interaction,
      async () => {
        this.access.requireAllowed(interaction);
        const record = await this.builds.build(repository, number);
        if (!record) {
          throw new CommandRefusal(number === null ? `Herald has no build of ${repository}.` : `Herald has no build #${number} of ${repository}.`);
        }
        this.access.requireChannelVisible(interaction, record.channelId, `The message of ${record.repoSlug} #${record.buildNumber}`);
        return this.buildAnswer(record);
      },
      { ephemeral: true },
    );
  }

  repositories(interaction: AutocompleteInteraction): Promise<void> {
    return this.replies.choices(interaction, async () => {
      this.access.requireAllowed(interaction);
      const typed = String(interaction.options.getFocused());
      return (await this.builds.repositories(typed)).map((slug) => ({ name: slug, value: slug }));
    });
  }

  notifyStatus(interaction: ChatInputCommandInteraction, id: string): Promise<void> {
    return this.replies.answer(
      interaction,
      async () => {
        this.access.requireAllowed(interaction);
        const trimmed = id.trim();
        if (!/^[0-9a-f]{24}$/i.test(trimmed)) {
          throw new CommandRefusal(
            `"${trimmed.slice(0, 50)}" is not a notification id: the ids POST /notify answers are 24 hexadecimal digits, such as 665f1c2e9b1d4a0012345678.`,
          );
        }
        const notification = await this.notifications.find(trimmed);
        if (!notification) throw new CommandRefusal(`Herald has no notification ${trimmed}.`);
        this.access.requireChannelVisible(interaction, notification.channelId, `Notification ${trimmed}`);
        const view = toView(notification, await this.notifications.findDelivery(notification._id));
        const fields: APIEmbedField[] = [
          { name: 'State', value: view.state, inline: true },
          { name: 'Pending', value: view.pending ?? 'nothing', inline: true },
          { name: 'Attempts', value: String(view.attempts), inline: true },
          { name: 'Channel', value: `<#${view.channelId}>`, inline: true },
        ];
        if (view.lastError) {
          const status = view.lastError.status ? ` (HTTP ${view.lastError.status}${view.lastError.code ? `, code ${view.lastError.code}` : ''})` : '';
          fields.push({ name: 'Last error', value: clip(`${view.lastError.message}${status} at ${view.lastError.at}`) });
        }
        if (view.nextAttemptAt)
          fields.push({ name: 'Next attempt', value: `<t:${Math.floor(Date.parse(view.nextAttemptAt) / 1000)}:R>`, inline: true });
        const link = view.messageId && interaction.guildId ? messageLink(interaction.guildId, view.channelId, view.messageId) : null;
        return {
          embeds: [{ title: `Notification ${view.id}`, ...(link && { url: link }), fields, timestamp: view.updatedAt }],
          components: link ? [linkRow(link, 'Open the message')] : [],
        };
      },
      { ephemeral: true },
    );
  }

  /** The build's message as Discord shows it (fetched: the bot's own messages are readable without intents), linked. */
  private async buildAnswer(record: {
    repoSlug: string;
    buildNumber: number;
    channelId: string;
    messageId: string | null;
    status: string;
    delivery: string;
    lastError: string | null;
  }): Promise<CommandAnswer> {
    const title = `${record.repoSlug} #${record.buildNumber}`;
    const summary: APIEmbed = {
      title,
      fields: [
        { name: 'Status', value: record.status, inline: true },
        { name: 'Channel', value: `<#${record.channelId}>`, inline: true },
        ...(record.delivery !== 'sent'
          ? [{ name: 'Discord', value: clip(`${record.delivery}${record.lastError ? `: ${record.lastError}` : ''}`) }]
          : []),
      ],
    };
    if (!record.messageId) return { content: `${title} has no message in Discord yet.`, embeds: [summary] };
    const channel = this.client.channels.cache.get(record.channelId);
    const guildId = channel && 'guildId' in channel ? channel.guildId : null;
    const link = guildId ? messageLink(guildId, record.channelId, record.messageId) : null;
    let embeds: APIEmbed[] = [summary];
    try {
      if (channel?.isTextBased()) {
        const message = await channel.messages.fetch(record.messageId);
        if (message.embeds.length) embeds = message.embeds.map((embed) => embed.toJSON());
      }
    } catch (error) {
      summary.fields?.push({ name: 'Message', value: clip(`could not be read: ${errorMessage(error)}`) });
    }
    return {
      content: link ? `${title}: ${link}` : title,
      embeds,
      components: link ? [linkRow(link, 'Open the build message')] : [],
    };
  }
}

/** The readiness checks as the presence shows them: each check up, degraded (optional) or down (required), and why. */
export function statusEmbed(report: ReadinessReport): APIEmbed {
  const look = STATUS_LOOK[report.status];
  const presence = presenceFor(report);
  return {
    title: look.title,
    color: look.colour,
    description: report.status === 'up' ? 'Every check passes.' : presence.text,
    fields: report.outcomes.slice(0, 25).map((outcome) => ({
      name: `${outcome.up ? '✅' : outcome.required ? '❌' : '⚠️'} ${outcome.name}`,
      value: clip(outcome.up ? `up (${outcome.ms} ms)` : `${outcome.required ? 'down' : 'degraded'}: ${outcome.message ?? 'failed'}`),
    })),
    footer: { text: 'A required check down makes Herald down; an optional one degrades it.' },
    timestamp: new Date().toISOString(),
  };
}

export function messageLink(guildId: string, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId}/${channelId}/${messageId}`;
}

function linkRow(url: string, label: string): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setStyle(ButtonStyle.Link).setURL(url).setLabel(label));
}

function clip(text: string): string {
  return text.length > FIELD_VALUE_MAX ? `${text.slice(0, FIELD_VALUE_MAX - 1)}…` : text;
}
