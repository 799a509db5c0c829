import { Injectable } from '@nestjs/common';
import { TemplateRenderer } from '../render/template-renderer';
import type { ChartInput } from './chart-input';

export const METRICS_TEMPLATE = 'metrics-chart';

/** Draws one chart with the shared TemplateRenderer (warm pool page, clipped CDP screenshot, one retry after a crash). */
@Injectable()
export class MetricsChartRenderer {
  /** The built template's content hash: part of every key, so a new template draws charts anew. */
  readonly templateVersion: string;

  constructor(private readonly templates: TemplateRenderer) {
    // Registering here, while modules are built, puts the chart template in warm pages from the pool's start.
    this.templateVersion = templates.version(METRICS_TEMPLATE);
  }

  async render(chart: ChartInput): Promise<Buffer> {
    return (await this.templates.render(METRICS_TEMPLATE, chart, chart.scale ?? 1)).png;
  }
}
