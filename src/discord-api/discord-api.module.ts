import { Module } from '@nestjs/common';
import { DiscordRest } from './discord-rest';

/** Discord's REST API for every feature that posts without a gateway connection (Drone, Notify, the VK bridge). */
@Module({ providers: [DiscordRest], exports: [DiscordRest] })
export class DiscordApiModule {}
