import { Module } from '@nestjs/common';
import { BackendClient } from './backend-client';

/** The team's backend (BACKEND_URL): the calls Herald makes to tell it about images. */
@Module({ providers: [BackendClient], exports: [BackendClient] })
export class BackendModule {}
