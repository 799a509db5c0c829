import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { DiscordRest } from './discord-rest';

/** Discord's REST API for every feature that posts without a gateway connection (Drone, Notify, the VK bridge). */
@Module({ imports: [HealthModule], providers: [DiscordRest], exports: [DiscordRest] })
export class DiscordApiModule {}
