import { Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { HealthModule } from '../health/health.module';
import { ReadinessService } from '../health/readiness.service';
import { ObjectStorage } from './object-storage';

/**
 * Whoever imports storage adds S3 to this process's readiness checks, not required: every replica shares the bucket, so
 * its outage degrades readiness instead of taking every replica out of rotation. S3_CREATE_BUCKET is honoured here.
 */
@Injectable()
class StorageSetup implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly storage: ObjectStorage,
    private readonly readiness: ReadinessService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.readiness.register({ name: 'storage', required: false, check: () => this.storage.ping() });
    if (this.config.s3.createBucket) await this.storage.ensureBucket();
  }
}

/** S3: put / get / delete / size / URLs. Imported by the features that keep images (render, metrics, the bot). */
@Module({
  imports: [HealthModule],
  providers: [ObjectStorage, StorageSetup],
  exports: [ObjectStorage],
})
export class StorageModule {}
