import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ReadinessService } from './readiness.service';

/** The check every Herald process has: MongoDB. Storage and the browser add theirs where a feature imports them. */
@Injectable()
export class CoreChecks implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  onModuleInit(): void {
    this.readiness.register({
      name: 'mongodb',
      required: true,
      check: async () => {
        if (this.connection.readyState !== 1 || !this.connection.db) throw new Error('not connected');
        await this.connection.db.admin().ping();
      },
    });
  }
}
