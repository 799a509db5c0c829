import { Injectable, Logger } from '@nestjs/common';
import { MessageFlags, type AutocompleteInteraction, type BaseMessageOptions, type Interaction, type RepliableInteraction } from 'discord.js';
import { ServiceBusyError, errorMessage } from '../../common/errors';

/**
 * Discord drops an interaction that is not answered within 3 s of its creation. Answers that take longer than this
 * are deferred first ("Herald is thinking…") and edited in when ready; the margin covers the way to and from Discord.
 */
export const DEFER_AFTER_MS = 2000;

/** What a command answers: a message's content, embeds, files and components. */
export type CommandAnswer = Pick<BaseMessageOptions, 'content' | 'embeds' | 'files' | 'components'>;

/** A refusal or problem the person should read (answered ephemeral), as opposed to a failure of Herald. */
export class CommandRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandRefusal';
  }
}

/**
 * Answers interactions: at once when the answer is ready within DEFER_AFTER_MS, otherwise deferred and then edited
 * in (PATCH …/messages/@original). A refusal, a full renderer or a failure becomes an ephemeral message the person
 * can act on. A call to Discord that fails is logged with the interaction id (replies are not queued: the token
 * lives 15 minutes and the person is waiting now).
 */
@Injectable()
export class InteractionReplies {
  private readonly logger = new Logger(InteractionReplies.name);

  async answer(interaction: RepliableInteraction, work: () => Promise<CommandAnswer>, options: { ephemeral: boolean }): Promise<void> {
    const outcome = work().then(
      (answer) => ({ answer, ephemeral: options.ephemeral }),
      (error: unknown) => ({ answer: this.problem(interaction, error), ephemeral: true }),
    );
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), DEFER_AFTER_MS)));
    const first = await Promise.race([outcome, slow]);
    clearTimeout(timer);
    if (first !== 'slow') {
      await this.call(interaction, 'callback', () =>
        interaction.reply({ ...first.answer, flags: first.ephemeral ? MessageFlags.Ephemeral : undefined, allowedMentions: { parse: [] } }),
      );
      return;
    }
    const deferred = await this.call(interaction, 'defer', () =>
      interaction.deferReply({ flags: options.ephemeral ? MessageFlags.Ephemeral : undefined }),
    );
    const { answer, ephemeral } = await outcome;
    if (!deferred) return;
    if (ephemeral === options.ephemeral) {
      await this.call(interaction, 'edit-original', () => interaction.editReply({ ...answer, allowedMentions: { parse: [] } }));
      return;
    }
    // A problem after a public deferral: say it to the person alone, and take the public "thinking…" away.
    await this.call(interaction, 'follow-up', () => interaction.followUp({ ...answer, flags: MessageFlags.Ephemeral }));
    await this.call(interaction, 'delete-original', () => interaction.deleteReply());
  }

  /** An answer to an autocomplete interaction (no deferral exists for these; Discord shows nothing when it is late). */
  async choices(interaction: AutocompleteInteraction, list: () => Promise<{ name: string; value: string }[]>): Promise<void> {
    let choices: { name: string; value: string }[] = [];
    try {
      choices = await list();
    } catch (error) {
      this.logger.warn({ interactionId: interaction.id, reason: errorMessage(error) }, 'Could not list autocomplete choices');
    }
    await this.call(interaction, 'autocomplete', () => interaction.respond(choices));
  }

  private problem(interaction: RepliableInteraction, error: unknown): CommandAnswer {
    if (error instanceof CommandRefusal) return { content: error.message };
    if (error instanceof ServiceBusyError) {
      return { content: `Herald's renderer is full right now (${error.message}). Try again in ${error.retryAfterSeconds} s.` };
    }
    this.logger.error({ interactionId: interaction.id, command: commandName(interaction), err: error }, 'A command failed');
    return { content: `Herald could not do that: ${errorMessage(error)}` };
  }

  /** One call to Discord; a failure is logged with the interaction id and reported as false. */
  private async call(interaction: Interaction, step: string, send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      this.logger.error(
        { interactionId: interaction.id, command: commandName(interaction), step, reason: errorMessage(error) },
        `Could not answer interaction ${interaction.id} (${step})`,
      );
      return false;
    }
  }
}

function commandName(interaction: Interaction): string {
  if (interaction.isCommand() || interaction.isAutocomplete()) return interaction.commandName;
  if (interaction.isMessageComponent()) return interaction.customId;
  return String(interaction.type);
}
