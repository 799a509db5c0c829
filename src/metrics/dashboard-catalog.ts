import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, ConfigError } from '../config/config';
import { sourceHostAllowed } from './dashboard-sources';
import { DashboardsFileError, readDashboardsFile, type Dashboard } from './dashboards-file';

/**
 * The dashboards of METRICS_DASHBOARDS_FILE checked against the configuration, or a ConfigError listing every problem.
 * Start-up calls it before connecting to anything, so a wrong file ends with exit 78 naming it even while MongoDB is down.
 */
export function loadDashboards(config: AppConfig): Dashboard[] {
  const file = config.metrics.dashboardsFile;
  if (!file) return [];
  try {
    return readDashboardsFile(file, {
      maxWidth: config.metrics.maxWidth,
      maxHeight: config.metrics.maxHeight,
      maxPixels: config.metrics.maxPixels,
      maxPoints: config.metrics.maxPoints,
      prometheusConfigured: Boolean(config.metrics.prometheus),
      isAllowedHost: (url) => sourceHostAllowed(config.metrics, url),
      panelKeyTemplate: config.metrics.panelKeyTemplate,
    });
  } catch (error) {
    if (error instanceof DashboardsFileError) throw new ConfigError(error.problems.map((problem) => `METRICS_DASHBOARDS_FILE: ${problem}`));
    throw error;
  }
}

/** The dashboards of METRICS_DASHBOARDS_FILE, read and checked once at start-up (a bad file stops start-up, naming the field). */
@Injectable()
export class DashboardCatalog {
  private readonly logger = new Logger(DashboardCatalog.name);
  readonly dashboards: readonly Dashboard[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.dashboards = loadDashboards(config);
    if (this.dashboards.length === 0) return;
    this.logger.log(
      {
        file: config.metrics.dashboardsFile,
        dashboards: this.dashboards.map((dashboard) => `${dashboard.name} (${dashboard.panels.length} panels)`),
      },
      'Metrics dashboards loaded',
    );
  }

  find(name: string): Dashboard | undefined {
    return this.dashboards.find((dashboard) => dashboard.name === name);
  }

  get scheduled(): Dashboard[] {
    return this.dashboards.filter((dashboard) => dashboard.schedule !== undefined);
  }
}
