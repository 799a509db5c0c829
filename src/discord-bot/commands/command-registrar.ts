import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Client, type ApplicationCommand, type ApplicationCommandData, type Collection, type Guild } from 'discord.js';
import { CommandsService } from 'necord';
import { WHERE_THE_INVITE_IS } from '../../discord-api/discord-invite';
import { describeDiscordError } from '../../discord-api/discord-rest';
import { APP_CONFIG, type AppConfig } from '../../config/config';

/** What registration found for one scope (global, or one guild). */
export interface RegistrationOutcome {
  scope: string;
  /** Names of the definitions that were new or different, and of registered commands Herald no longer has. */
  changed: string[];
  sent: boolean;
}

/**
 * Registers the commands necord discovered, once the bot is ready: globally (DISCORD_COMMANDS=global) or in each
 * guild (DISCORD_COMMANDS=guild: DISCORD_COMMANDS_GUILDS, else every guild the bot is in, and each it joins later),
 * where changes show at once.
 * It reads what Discord has first and sends nothing when every definition is unchanged, so restarts (and every
 * replica and shard starting) cost no write; when one differs, the whole set goes in one bulk overwrite (PUT), which
 * also removes commands Herald no longer has. necord's own registration is off (`skipRegistration`): it would PUT on
 * every start.
 */
@Injectable()
export class CommandRegistrar implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CommandRegistrar.name);
  private readonly onReady = (): void => void this.registerAll();
  /**
   * DISCORD_COMMANDS=guild registers per server: a server the bot is added to while it runs gets them then (the
   * first server of a new bot, followed from its invite link), not only at the next start.
   */
  private readonly onGuildJoined = (guild: Guild): void => {
    const { registration, guildIds } = this.config.discord.commands;
    if (registration !== 'guild' || (guildIds.length > 0 && !guildIds.includes(guild.id))) return;
    void this.registerIn([guild.id]);
  };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly client: Client,
    private readonly commands: CommandsService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.discord.commands.registration === 'off') return;
    if (this.client.isReady()) void this.registerAll();
    else this.client.once('clientReady', this.onReady);
    this.client.on('guildCreate', this.onGuildJoined);
  }

  onModuleDestroy(): void {
    this.client.off('clientReady', this.onReady);
    this.client.off('guildCreate', this.onGuildJoined);
  }

  /** The definitions necord built from the decorators, in the form discord.js sends them. */
  definitions(): ApplicationCommandData[] {
    return this.commands.getCommands().map((command) => command.toJSON() as ApplicationCommandData);
  }

  async registerAll(): Promise<RegistrationOutcome[]> {
    const { registration, guildIds } = this.config.discord.commands;
    return this.registerIn(registration === 'global' ? [undefined] : guildIds.length ? guildIds : [...this.client.guilds.cache.keys()]);
  }

  /** Registers in each scope (a guild id, or undefined for global), logging a scope that fails and going on. */
  private async registerIn(scopes: (string | undefined)[]): Promise<RegistrationOutcome[]> {
    const outcomes: RegistrationOutcome[] = [];
    for (const guildId of scopes) {
      try {
        outcomes.push(await this.register(guildId));
      } catch (error) {
        // The commands keep working where they were registered before; the next start tries again.
        const reason = registrationFailure(error, guildId);
        this.logger.error(
          { guildId: guildId ?? null, reason },
          `Could not register the application commands (${guildId ? `guild ${guildId}` : 'global'}): ${reason}`,
        );
      }
    }
    return outcomes;
  }

  private async register(guildId: string | undefined): Promise<RegistrationOutcome> {
    const application = this.client.application;
    if (!application) throw new Error('the bot is not logged in');
    const scope = guildId ? `guild ${guildId}` : 'global';
    const wanted = this.definitions();
    const registered = await application.commands.fetch(guildId ? { guildId } : {});
    const changed = differences(registered, wanted);
    if (!changed.length) {
      this.logger.log({ scope, commands: wanted.map((command) => command.name) }, `Application commands unchanged (${scope}); nothing sent`);
      return { scope, changed, sent: false };
    }
    if (guildId) await application.commands.set(wanted, guildId);
    else await application.commands.set(wanted);
    this.logger.log({ scope, changed }, `Application commands registered (${scope}): ${changed.join(', ')}`);
    return { scope, changed, sent: true };
  }
}

/** Names of the commands that are new, differ from the registered one, or are registered but no longer wanted. */
export function differences(registered: Collection<string, ApplicationCommand>, wanted: ApplicationCommandData[]): string[] {
  const changed: string[] = [];
  const kept = new Set<string>();
  for (const definition of wanted) {
    const type = definition.type ?? 1;
    const existing = registered.find((command) => command.name === definition.name && command.type === type);
    if (existing) kept.add(existing.id);
    if (!existing || !existing.equals(definition)) changed.push(definition.name);
  }
  for (const command of registered.values()) if (!kept.has(command.id)) changed.push(`${command.name} (removed)`);
  return changed;
}

/**
 * Why registering failed, with what to change. A server refuses its commands (50001 Missing Access) when the bot was
 * added to it without the `applications.commands` scope, which the invite link asks for.
 */
export function registrationFailure(error: unknown, guildId: string | undefined): string {
  if (!guildId) return describeDiscordError(error);
  return describeDiscordError(error, {
    50001:
      `the bot was added to server ${guildId} without the applications.commands scope: add it again with the invite link ` +
      `(${WHERE_THE_INVITE_IS}), or set DISCORD_COMMANDS=global or off`,
  });
}
