import { Injectable, UseInterceptors, type Type } from '@nestjs/common';
import { ApplicationIntegrationType, InteractionContextType, type AutocompleteInteraction } from 'discord.js';
import {
  AutocompleteInterceptor,
  Button,
  ComponentParam,
  Context,
  IntegerOption,
  MessageCommand,
  Options,
  StringOption,
  Subcommand,
  createCommandGroupDecorator,
  type ButtonContext,
  type MessageCommandContext,
  type SlashCommandContext,
} from 'necord';
import { HeraldCommandsService } from './herald-commands.service';
import { MessageImageCommandService, POST_IMAGE_BUTTON } from './message-image-command.service';

/**
 * What every command is: used in servers (the channel checks need one), installed with the bot. Both are set
 * explicitly because Discord fills in defaults, and a definition that leaves them out would never equal the
 * registered one (registration would then send it on every start).
 */
const IN_SERVERS = { contexts: [InteractionContextType.Guild], integrationTypes: [ApplicationIntegrationType.GuildInstall] };

export class BuildOptions {
  @StringOption({ name: 'repository', description: 'owner/name of the repository', required: true, autocomplete: true, max_length: 200 })
  repository!: string;

  @IntegerOption({ name: 'number', description: 'the build number (default: the latest)', required: false, min_value: 1 })
  number?: number | null;
}

export class NotifyStatusOptions {
  @StringOption({ name: 'id', description: 'the id POST /notify answered', required: true, min_length: 1, max_length: 64 })
  id!: string;
}

/** Repositories of the stored builds, as the member types (necord's autocomplete hook for /herald build). */
@Injectable()
export class RepositoryAutocomplete extends AutocompleteInterceptor {
  constructor(private readonly commands: HeraldCommandsService) {
    super();
  }

  transformOptions(interaction: AutocompleteInteraction): Promise<void> {
    return this.commands.repositories(interaction);
  }
}

/**
 * The command handlers, declared with necord's decorators. They only translate the interaction and call a service.
 *
 * The classes are made per application: necord keeps each handler's binding in the decorator's metadata, which
 * belongs to the class and so to the whole process, and binds it once (the first application wins). A second Nest
 * application in the same process (a restart in one test run) would have its interactions answered by the first,
 * closed one — the reason gateway listeners avoid necord's `@On` (docs/adr/0002). Fresh classes give each
 * application metadata of its own; in production there is one application per process either way.
 */
export function commandHandlers(options: { images: boolean }): Type[] {
  const HeraldCommand = createCommandGroupDecorator({
    name: 'herald',
    description: "Herald's state: its health, Drone builds, notifications",
    // Everyone may ask; what shows stored data is answered only where the member can see its channel.
    defaultMemberPermissions: null,
    ...IN_SERVERS,
  });

  @Injectable()
  @HeraldCommand()
  class HeraldSlashCommands {
    constructor(private readonly commands: HeraldCommandsService) {}

    @Subcommand({ name: 'status', description: "Herald's readiness checks: what is up, degraded or down, and why" })
    status(@Context() [interaction]: SlashCommandContext): Promise<void> {
      return this.commands.status(interaction);
    }

    @UseInterceptors(RepositoryAutocomplete)
    @Subcommand({ name: 'build', description: "A Drone build's message (the latest unless a number is given)" })
    build(@Context() [interaction]: SlashCommandContext, @Options() { repository, number }: BuildOptions): Promise<void> {
      return this.commands.build(interaction, repository, number ?? null);
    }

    @Subcommand({ name: 'notify-status', description: 'Where a notification sent through POST /notify is' })
    notifyStatus(@Context() [interaction]: SlashCommandContext, @Options() { id }: NotifyStatusOptions): Promise<void> {
      return this.commands.notifyStatus(interaction, id);
    }
  }

  if (!options.images) return [HeraldSlashCommands];

  @Injectable()
  class RenderAsImageCommand {
    constructor(private readonly images: MessageImageCommandService) {}

    @MessageCommand({ name: 'Render as image', defaultMemberPermissions: null, ...IN_SERVERS })
    renderAsImage(@Context() [interaction]: MessageCommandContext): Promise<void> {
      return this.images.renderAsImage(interaction);
    }

    @Button(POST_IMAGE_BUTTON)
    postImage(@Context() [interaction]: ButtonContext, @ComponentParam('hash') hash: string): Promise<void> {
      return this.images.postImage(interaction, hash);
    }
  }

  return [HeraldSlashCommands, RenderAsImageCommand];
}
