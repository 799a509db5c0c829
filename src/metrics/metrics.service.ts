import { BadRequestException, Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { telemetry } from '../telemetry/telemetry';
import { validationFailure, type FieldError } from '../common/validation';
import { ObjectStorage } from '../storage/object-storage';
import type { ChartInput } from './chart-input';
import { chartKey, normaliseChart } from './chart-normaliser';
import { chartRequestProblems } from './chart-rules';
import { MetricsChartRenderer } from './metrics-chart.renderer';
import type { ChartDto, ChartImageDto } from './metrics-image.dto';

const PNG = 'image/png';

const charts = telemetry.counter('herald_metrics_charts_total', 'Metrics charts answered, by whether they were drawn or found in storage', [
  'outcome',
]);

interface StoredChart {
  urn: string;
  url?: string;
  key: string;
  bytes: number;
}

@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly storage: ObjectStorage,
    private readonly renderer: MetricsChartRenderer,
  ) {}

  /** One PNG in object storage per chart, in request order; a chart already stored is not drawn again. */
  async chartImages(request: { charts: ChartDto[] }): Promise<ChartImageDto[]> {
    const problems = chartRequestProblems(request, this.config.metrics);
    if (problems.length > 0) throw validationFailed(problems);

    const inputs = request.charts.map((chart) => normaliseChart(chart, this.config.metrics));
    // The same chart twice in one request is drawn once.
    const byKey = new Map<string, Promise<StoredChart>>();
    return Promise.all(
      inputs.map(async (chart) => {
        const key = chartKey(this.renderer.templateVersion, chart);
        let stored = byKey.get(key);
        if (!stored) {
          stored = this.storedChart(key, chart);
          byKey.set(key, stored);
        }
        return this.describe(await stored, chart);
      }),
    );
  }

  private async storedChart(key: string, chart: ChartInput): Promise<StoredChart> {
    // One HEAD says whether the chart is already drawn and gives the byte size the answer carries.
    const bytes = await this.storage.size(key);
    if (bytes !== null) {
      charts.inc({ outcome: 'reused' });
      return { ...this.storage.locate(key), key, bytes };
    }
    const started = Date.now();
    const png = await this.renderer.render(chart);
    const stored = await this.storage.put(key, png, PNG);
    charts.inc({ outcome: 'rendered' });
    this.logger.log(
      { key, kind: chart.kind, width: chart.width, height: chart.height, bytes: png.length, ms: Date.now() - started },
      'Rendered metrics chart',
    );
    return stored;
  }

  private async describe(stored: StoredChart, chart: ChartInput): Promise<ChartImageDto> {
    const scale = chart.scale ?? 1;
    const image: ChartImageDto = { ...stored, width: Math.ceil(chart.width * scale), height: Math.ceil(chart.height * scale), contentType: PNG };
    // A presigned URL, when asked for, replaces the public one: it was configured for these charts in particular.
    const ttl = this.config.metrics.presignTtlSeconds;
    if (ttl > 0) image.url = await this.storage.presign(stored.key, ttl);
    return image;
  }
}

/** The same 400 the global ValidationPipe gives, for rules that depend on configuration. */
function validationFailed(errors: FieldError[]): BadRequestException {
  return new BadRequestException(validationFailure(errors));
}
