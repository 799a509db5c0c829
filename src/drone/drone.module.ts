import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { AppConfig } from '../config/config';
import { DiscordApiModule } from '../discord-api/discord-api.module';
import { BuildMessage, BuildMessageSchema } from './build-message.schema';
import { BuildMessageStore } from './build-message.store';
import { DroneController } from './drone.controller';
import { DroneService } from './drone.service';

/** Drone's signed global webhook → one Discord message per build (needs DRONE_WEBHOOK_SECRET and DISCORD_TOKEN). */
@Module({})
export class DroneModule {
  static register(_config: AppConfig): DynamicModule {
    return {
      module: DroneModule,
      imports: [DiscordApiModule, MongooseModule.forFeature([{ name: BuildMessage.name, schema: BuildMessageSchema }])],
      controllers: [DroneController],
      providers: [BuildMessageStore, DroneService],
    };
  }
}
