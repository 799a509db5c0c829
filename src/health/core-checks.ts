import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ReadinessService } from './readiness.service';

/**
 * The check every Herald process has: MongoDB. Not required: every replica shares it, so its outage degrades readiness
 * (the replica stays in rotation and answers 503 + Retry-After naming mongodb to the requests that need it).
 */
@Injectable()
export class CoreChecks implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  onModuleInit(): void {
    this.readiness.register({
      name: 'mongodb',
      required: false,
      check: async () => {
        if (this.connection.readyState !== 1 || !this.connection.db) throw new Error('not connected');
        await this.connection.db.admin().ping();
      },
    });
  }
}
