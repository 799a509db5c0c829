import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ANY_TEMPLATE, BrowserPool } from '../browser/browser-pool';
import { ObjectStorage } from '../storage/object-storage';
import { ReadinessService } from './readiness.service';

/** The checks every Herald process has: MongoDB, S3 and the browser pool. */
@Injectable()
export class CoreChecks implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    @InjectConnection() private readonly connection: Connection,
    private readonly storage: ObjectStorage,
    private readonly browser: BrowserPool,
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
    this.readiness.register({ name: 'storage', required: true, check: () => this.storage.ping() });
    this.readiness.register({
      name: 'browser',
      required: true,
      check: () => this.browser.lease(ANY_TEMPLATE, async (page) => void (await page.evaluate(() => document.readyState)), { timeoutMs: 2500 }),
    });
  }
}
