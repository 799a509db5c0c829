import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { BackendCallbacks } from './backend-callbacks';
import { BackendClient } from './backend-client';

/** The team's backend (BACKEND_URL): callbacks about images, delivered through the outbox's `backend` queue. */
@Module({ imports: [OutboxModule], providers: [BackendClient, BackendCallbacks], exports: [BackendCallbacks] })
export class BackendModule {}
