import { Inject, Injectable } from '@nestjs/common';
import { GuildMember, PermissionFlagsBits, type Interaction } from 'discord.js';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { CommandRefusal } from './interaction-replies';

/**
 * Who may use Herald's commands: DISCORD_COMMANDS_GUILDS and DISCORD_COMMANDS_ROLES narrow them down (the default
 * member permissions Discord applies come first), and what shows stored data is answered only to a member who can
 * see the channel it belongs to.
 */
@Injectable()
export class CommandAccess {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Throws the refusal to show when this member may not use the commands here. */
  requireAllowed(interaction: Interaction): void {
    const { guildIds, roleIds } = this.config.discord.commands;
    if (!interaction.inGuild()) throw new CommandRefusal("Herald's commands work in servers only.");
    if (guildIds.length && !guildIds.includes(interaction.guildId)) {
      throw new CommandRefusal("Herald's commands are not enabled in this server.");
    }
    if (roleIds.length && !memberRoleIds(interaction).some((id) => roleIds.includes(id))) {
      throw new CommandRefusal("You need one of the roles Herald's commands are limited to (DISCORD_COMMANDS_ROLES).");
    }
  }

  /** Throws unless the member can see the channel (stored builds and notifications belong to one). */
  requireChannelVisible(interaction: Interaction, channelId: string, what: string): void {
    const channel = interaction.guild?.channels.cache.get(channelId);
    const member = interaction.member instanceof GuildMember ? interaction.member : null;
    if (!channel || !member || !channel.permissionsFor(member).has(PermissionFlagsBits.ViewChannel)) {
      throw new CommandRefusal(`${what} is in a channel you cannot see.`);
    }
  }
}

function memberRoleIds(interaction: Interaction): string[] {
  const member = interaction.member;
  if (!member) return [];
  return member instanceof GuildMember ? [...member.roles.cache.keys()] : member.roles;
}
