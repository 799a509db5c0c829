import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { ReadinessService } from '../health/readiness.service';
import { ANY_TEMPLATE, BrowserPool } from './browser-pool';
import { ImageFetcher } from './image-fetcher';
import { TemplateRenderer } from './template-renderer';

/** Whoever imports the browser makes it a required readiness check of this process: a page can be leased. */
@Injectable()
class BrowserReadiness implements OnModuleInit {
  constructor(
    private readonly pool: BrowserPool,
    private readonly readiness: ReadinessService,
  ) {}

  onModuleInit(): void {
    this.readiness.register({
      name: 'browser',
      required: true,
      check: () => this.pool.lease(ANY_TEMPLATE, async (page) => void (await page.evaluate(() => document.readyState)), { timeoutMs: 2500 }),
    });
  }
}

/**
 * Chromium, its warm pages and the generic template renderer, plus the fetcher that brings pictures to a page (the
 * page never fetches). Imported by the features that draw (render, metrics); a process without them launches no
 * browser.
 */
@Module({
  imports: [HealthModule],
  providers: [BrowserPool, TemplateRenderer, ImageFetcher, BrowserReadiness],
  exports: [TemplateRenderer, ImageFetcher],
})
export class BrowserModule {}
