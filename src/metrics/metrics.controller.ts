import { BadRequestException, Body, Controller, Get, Headers, HttpCode, NotFoundException, Param, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiExtraModels,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiJsonBodyResponses } from '../common/api-responses';
import { validationFailure } from '../common/validation';
import { ObjectStorage } from '../storage/object-storage';
import {
  DashboardPanelImageDto,
  DashboardsResponseDto,
  METRICS_IMAGE_EXAMPLE,
  MetricsImageRequestDto,
  MetricsImageResponseDto,
} from './metrics-image.dto';
import { DashboardService, storedAt, type PanelImage } from './dashboard.service';
import { MetricsService } from './metrics.service';
import { RequireScope } from '../auth/require-scope.decorator';

@ApiTags('metrics')
@Controller('metrics')
@ApiExtraModels(MetricsImageResponseDto, DashboardPanelImageDto)
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly dashboards: DashboardService,
    private readonly storage: ObjectStorage,
  ) {}

  @Post('image')
  @RequireScope('metrics')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Render metrics as chart images in object storage, or render a configured dashboard',
    description:
      'With `charts`: draws each chart (line, area, bar or a stat panel) as a PNG, stores it under a content-addressed key and answers ' +
      'one image per chart in request order. The same chart always gets the same key and is drawn only once.\n\n' +
      'With no body, `{}` or `{ "dashboard": "<name>" }`: renders that dashboard of `METRICS_DASHBOARDS_FILE` (the first when none ' +
      'is named). Herald fetches each panel’s data (Prometheus or JSON), stores it at the key `METRICS_S3_KEY_TEMPLATE` gives (default `metrics/<dashboard>/<panel id>.png`) ' +
      '(rewritten only when what it shows changed) and answers `{ "<panel id>": { urn, url?, key, width, height, bytes, updatedAt, … } }`. ' +
      'A panel whose source fails is drawn as "no data: <reason>" and carries `error`; the others still render. The backend is told ' +
      'after each render when `BACKEND_URL` is set.',
  })
  @ApiBody({
    type: MetricsImageRequestDto,
    required: false,
    examples: {
      'latency line and CPU stat': { value: METRICS_IMAGE_EXAMPLE },
      'a configured dashboard': { value: { dashboard: 'herald' } },
      'the first configured dashboard': { value: {} },
    },
  })
  @ApiOkResponse({
    description: '`{ images }` for charts; a map of panel id to its image for a dashboard',
    schema: {
      oneOf: [
        { $ref: getSchemaPath(MetricsImageResponseDto) },
        { type: 'object', additionalProperties: { $ref: getSchemaPath(DashboardPanelImageDto) } },
      ],
    },
  })
  @ApiBadRequestResponse({
    description: 'Malformed, over a configured limit, or an unknown dashboard; `errors[].field` names the field. Nothing is stored',
  })
  @ApiJsonBodyResponses()
  @ApiServiceUnavailableResponse({ description: 'The renderer is at capacity or object storage is down; see Retry-After' })
  async image(@Body() body: MetricsImageRequestDto): Promise<MetricsImageResponseDto | Record<string, PanelImage>> {
    if (body.charts !== undefined && body.dashboard !== undefined) {
      throw new BadRequestException(validationFailure([{ field: 'dashboard', messages: ['send either charts or dashboard, not both'] }]));
    }
    if (body.charts !== undefined) return { images: await this.metrics.chartImages({ charts: body.charts }) };
    return this.dashboards.render(this.dashboards.resolve(body.dashboard), 'api');
  }

  @Get('dashboards')
  @RequireScope('read', 'metrics')
  @ApiOperation({
    summary: 'The configured dashboards and the last render of each panel',
    description: 'Each dashboard of METRICS_DASHBOARDS_FILE with its schedule and panels: stable key, and the last render (time, ETag, error).',
  })
  @ApiOkResponse({ type: DashboardsResponseDto })
  @ApiServiceUnavailableResponse({ description: 'MongoDB is down; see Retry-After' })
  async list(): Promise<DashboardsResponseDto> {
    return { dashboards: await this.dashboards.overview() };
  }

  @Get('dashboards/:name/:file')
  @RequireScope('read', 'metrics')
  @ApiOperation({
    summary: 'The latest PNG of a dashboard panel',
    description:
      'Answers the panel’s latest picture with its ETag and Cache-Control (`If-None-Match` gives 304), or, where `S3_PUBLIC_URL` is set, ' +
      'redirects to its public URL. `file` is `<panel id>.png`.',
  })
  @ApiProduces('image/png')
  @ApiOkResponse({ description: 'The PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } })
  @ApiFoundResponse({ description: 'Redirect to the public URL (S3_PUBLIC_URL)' })
  @ApiNotFoundResponse({ description: 'No such dashboard or panel, or the panel has not been rendered yet' })
  @ApiServiceUnavailableResponse({ description: 'Object storage is down; see Retry-After' })
  async panel(
    @Param('name') name: string,
    @Param('file') file: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    if (!file.endsWith('.png')) throw new NotFoundException(`Panels are served as <panel id>.png, not "${file}"`);
    const key = this.dashboards.panelKey(name, file.slice(0, -'.png'.length));
    const notYet = () => new NotFoundException(`Panel ${key} has not been rendered yet: POST /metrics/image {"dashboard": "${name}"}`);
    const publicUrl = this.storage.publicUrl(key);
    if (publicUrl) {
      if (!(await this.storage.head(key))) throw notYet();
      response.redirect(302, publicUrl);
      return;
    }
    const stored = await this.storage.getWithHead(key);
    if (!stored) throw notYet();
    const { etag, cacheControl } = stored.head;
    // The time the answers' updatedAt gives, not S3's clock.
    const lastModified = storedAt(stored.head);
    if (etag) response.setHeader('ETag', etag);
    if (cacheControl) response.setHeader('Cache-Control', cacheControl);
    if (lastModified) response.setHeader('Last-Modified', lastModified.toUTCString());
    if (etag && ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
      response.status(304).end();
      return;
    }
    response.status(200).type('image/png').send(stored.body);
  }
}
