import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  MessageType,
  PermissionFlagsBits,
  type ButtonInteraction,
  type GuildMember,
  type Message,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import { errorMessage } from '../../common/errors';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { DiscordMessageInput } from '../../render/discord-message.input';
import { isValidLocale } from '../../common/intl';
import { RenderService } from '../../render/render.service';
import { ObjectStorage } from '../../storage/object-storage';
import { renderInputOf, type ReferencedMessage } from '../message-snapshot';
import { CommandAccess } from './command-access';
import { CommandRefusal, InteractionReplies, type CommandAnswer } from './interaction-replies';

/** The button under a rendered picture; `:hash` is the render's content address (its S3 key is render/<hash>.png). */
export const POST_IMAGE_BUTTON = 'herald/post-image/:hash';

/**
 * "Render as image" on a message: the PNG, answered to the member alone, with a button that posts it in the channel.
 * The message comes with the interaction (Discord hands the target message over, content included, without the
 * Message Content intent). Rendering goes through the same RenderService and browser admission as
 * POST /render/discord-message, so a full renderer is refused the same way.
 */
@Injectable()
export class MessageImageCommandService {
  private readonly logger = new Logger(MessageImageCommandService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly client: Client,
    private readonly render: RenderService,
    private readonly storage: ObjectStorage,
    private readonly access: CommandAccess,
    private readonly replies: InteractionReplies,
  ) {}

  renderAsImage(interaction: MessageContextMenuCommandInteraction): Promise<void> {
    return this.replies.answer(
      interaction,
      async () => {
        this.access.requireAllowed(interaction);
        const message = interaction.targetMessage;
        if (!message.inGuild()) throw new CommandRefusal('Herald renders messages of servers only.');
        const rendered = await this.renderMessage(message, interaction.locale);
        // Kept in S3 (awaited) so that the button can post exactly this picture later, from any replica.
        await this.render.persist(rendered);
        return {
          files: [new AttachmentBuilder(rendered.png, { name: `message-${message.id}.png` })],
          components: [
            new ActionRowBuilder<ButtonBuilder>().addComponents(
              new ButtonBuilder()
                .setCustomId(POST_IMAGE_BUTTON.replace(':hash', rendered.hash))
                .setStyle(ButtonStyle.Primary)
                .setLabel('Post in channel'),
            ),
          ],
        };
      },
      { ephemeral: true },
    );
  }

  postImage(interaction: ButtonInteraction, hash: string): Promise<void> {
    return this.replies.answer(
      interaction,
      async (): Promise<CommandAnswer> => {
        this.access.requireAllowed(interaction);
        const needed = PermissionFlagsBits.SendMessages | PermissionFlagsBits.AttachFiles;
        if (!interaction.memberPermissions?.has(needed)) throw new CommandRefusal('You cannot post pictures in this channel.');
        if (!/^[0-9a-f]{64}$/.test(hash)) throw new CommandRefusal('This button does not name a picture Herald rendered.');
        const png = await this.storage.get(`render/${hash}.png`);
        if (!png) throw new CommandRefusal('Herald no longer keeps this picture; use "Render as image" again.');
        return { content: `Rendered for <@${interaction.user.id}>`, files: [new AttachmentBuilder(png, { name: 'message.png' })] };
      },
      { ephemeral: false },
    );
  }

  /**
   * The message alone, or, when it replies to one, both as the client lists them (the conversation render), with its
   * dates in the language of the member who asked (their client's, as Discord shows them) and DISCORD_RENDER_TIME_ZONE.
   */
  private async renderMessage(message: Message<true>, memberLocale: string) {
    const { renderTimestamps: timestampStyle, renderLook } = this.config.discord;
    const look = { ...renderLook, locale: isValidLocale(memberLocale) ? memberLocale : renderLook.locale };
    const referenced = await this.referencedBy(message);
    const input = { ...renderInputOf({ message, member: await this.memberOf(message), referenced, emojiUrl: this.emojiUrl }), ...look };
    if (!referenced) return this.render.discordMessage(input, { timestampStyle });
    const earlier: DiscordMessageInput = {
      ...renderInputOf({ message: referenced.message as Message<true>, member: referenced.member, referenced: undefined, emojiUrl: this.emojiUrl }),
      ...look,
    };
    return this.render.discordConversation({ messages: [earlier, input], timestampStyle });
  }

  private readonly emojiUrl = (id: string, animated: boolean): string =>
    this.client.rest.cdn.emoji(id, { extension: animated ? 'gif' : 'png', size: 64 });

  /** The message a reply answers: Discord sends it along (`referenced_message`), else it is fetched; null when gone. */
  private async referencedBy(message: Message<true>): Promise<ReferencedMessage | null | undefined> {
    if (message.type !== MessageType.Reply || !message.reference?.messageId) return undefined;
    try {
      const referenced = await message.fetchReference();
      return { message: referenced, member: referenced.inGuild() ? await this.memberOf(referenced) : null };
    } catch (error) {
      this.logger.debug({ messageId: message.id, reason: errorMessage(error) }, 'Referenced message not available');
      return null;
    }
  }

  private async memberOf(message: Message<true>): Promise<GuildMember | null> {
    if (message.member) return message.member;
    if (message.webhookId) return null;
    try {
      return await message.guild.members.fetch(message.author.id);
    } catch {
      // Left the server: drawn with the user's own name and no role colour.
      return null;
    }
  }
}
