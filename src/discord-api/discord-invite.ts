import { PermissionFlagsBits } from 'discord-api-types/v10';

/** Where a bot token comes from, for every message that says Discord refused one. */
export const WHERE_THE_TOKEN_IS = 'the Discord Developer Portal (your application → Bot → Reset Token)';
/** Where an operator finds the link that adds the bot to a server, for every message about a bot not in one. */
export const WHERE_THE_INVITE_IS = 'Herald logs the link that adds it at start-up';

/**
 * The channel permissions the bot's features use: see channels and post in them (Notify, Drone, VK's Discord
 * destination post text and embeds), and with message images read their history (the catch-up after a new session).
 * Answers to commands go through the interaction, which needs none.
 */
export function botPermissions(messageImages: boolean): bigint {
  const posting = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.EmbedLinks;
  return messageImages ? posting | PermissionFlagsBits.ReadMessageHistory : posting;
}

/** The link that adds the bot to a server with those permissions (and its commands, when it registers any). */
export function inviteUrl(applicationId: string, permissions: bigint, commands: boolean): string {
  const scope = commands ? 'bot applications.commands' : 'bot';
  const query = new URLSearchParams({ client_id: applicationId, scope, permissions: permissions.toString() });
  return `https://discord.com/oauth2/authorize?${query.toString().replace(/\+/g, '%20')}`;
}
