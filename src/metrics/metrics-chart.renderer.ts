import { Injectable, OnModuleInit } from '@nestjs/common';
import { TemplateRenderer } from '../browser/template-renderer';
import type { ChartInput } from './chart-input';

export const METRICS_TEMPLATE = 'metrics-chart';

/** Draws one chart with the shared TemplateRenderer (warm pool page, clipped CDP screenshot, one retry after a crash). */
@Injectable()
export class MetricsChartRenderer implements OnModuleInit {
  constructor(private readonly templates: TemplateRenderer) {}

  /** Registered while modules initialise, so the pool's pages are warm with the chart template from the start. */
  onModuleInit(): void {
    this.templates.registerTemplate(METRICS_TEMPLATE);
  }

  /** The built template's content hash: part of every key, so a new template draws charts anew. */
  get templateVersion(): string {
    return this.templates.version(METRICS_TEMPLATE);
  }

  async render(chart: ChartInput): Promise<Buffer> {
    return (await this.templates.render(METRICS_TEMPLATE, chart, chart.scale ?? 1)).png;
  }
}
