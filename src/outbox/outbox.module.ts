import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth/auth.module';
import { Outbox } from './outbox';
import { OutboxController } from './outbox.controller';
import { OUTBOX_MODELS } from './outbox.schema';
import { OutboxStore } from './outbox.store';

/**
 * Durable jobs for the features that import it (Drone, Notify): claim by unique insert, renew, retry with the shared
 * backoff, park, drain on shutdown; GET /outbox lists what is parked.
 */
@Module({
  imports: [AuthModule, MongooseModule.forFeature(OUTBOX_MODELS)],
  controllers: [OutboxController],
  providers: [OutboxStore, Outbox],
  exports: [Outbox],
})
export class OutboxModule {}
