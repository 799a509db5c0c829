import { Global, Module } from '@nestjs/common';
import { DiscordRest } from './discord-rest';

/** Imported by AppModule whenever DISCORD_TOKEN is set, even when this process runs no gateway. */
@Global()
@Module({ providers: [DiscordRest], exports: [DiscordRest] })
export class DiscordRestModule {}
