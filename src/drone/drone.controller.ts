import { createHash } from 'node:crypto';
import {
  BadGatewayException,
  BadRequestException,
  Controller,
  HttpStatus,
  Inject,
  Logger,
  Post,
  RawBodyRequest,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiBodyTooLargeResponse, ApiMongoUnavailableResponse } from '../common/api-responses';
import { APP_CONFIG, AppConfig } from '../config/config';
import { verifyDroneSignature } from './drone-signature';
import { DroneWebhookBodyDoc, DroneWebhookErrorDoc, DroneWebhookResultDoc } from './drone-webhook.dto';
import { DroneService, DroneWebhookOutcome } from './drone.service';

@ApiTags('drone')
@Controller('drone')
export class DroneController {
  private readonly logger = new Logger(DroneController.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly drone: DroneService,
  ) {}

  @Post('webhook')
  @ApiOperation({
    summary:
      'Drone global webhook: one Discord message per build (posted on build:created, edited on build:updated), one per user created/deleted and repo enabled/disabled',
    description:
      "Point Drone's `DRONE_WEBHOOK_ENDPOINT` here and give both sides the same `DRONE_WEBHOOK_SECRET`. The request must carry " +
      "Drone's HTTP signature (draft-cavage, hmac-sha256 over the `date` and `digest` headers); the Digest must match the raw body " +
      'and the Date must be within DRONE_SIGNATURE_MAX_SKEW_SECONDS of the server clock.',
  })
  @ApiHeader({
    name: 'Signature',
    required: true,
    description:
      'keyId="hmac-key",algorithm="hmac-sha256",signature="<base64 HMAC-SHA256 of \'date: <Date>\\ndigest: <Digest>\'>",headers="date digest"',
  })
  @ApiHeader({ name: 'Digest', required: true, description: 'SHA-256=<base64 SHA-256 of the raw request body>' })
  @ApiHeader({ name: 'Date', required: true, description: 'HTTP date, e.g. Tue, 14 May 2024 09:30:00 GMT' })
  @ApiHeader({ name: 'X-Drone-Event', required: false, description: 'build, repo or user (informational; the signed body decides)' })
  @ApiBody({ type: DroneWebhookBodyDoc })
  @ApiResponse({
    status: 200,
    type: DroneWebhookResultDoc,
    description: "The build's message shows its newest known state, or the user/repo message was posted",
  })
  @ApiResponse({
    status: 202,
    type: DroneWebhookResultDoc,
    description: 'Ignored (not an event Herald shows), or stored and still being delivered (Discord slow or failing: retried in the background)',
  })
  @ApiResponse({ status: 400, type: DroneWebhookErrorDoc, description: 'Body is not JSON or lacks repo/build ids; nothing stored' })
  @ApiResponse({
    status: 401,
    type: DroneWebhookErrorDoc,
    description: 'Bad or missing signature, digest mismatch, missing or stale Date; nothing stored',
  })
  @ApiBodyTooLargeResponse('5 MB')
  @ApiMongoUnavailableResponse()
  @ApiResponse({
    status: 502,
    type: DroneWebhookErrorDoc,
    description:
      "Discord refused the message for good (e.g. no access to the channel): the job is parked (GET /outbox); the build's next event or POST /outbox/{id}/retry sends it again",
  })
  async receive(@Req() request: RawBodyRequest<Request>, @Res({ passthrough: true }) response: Response): Promise<DroneWebhookResultDoc> {
    const verdict = verifyDroneSignature(
      { method: request.method, url: request.originalUrl, header: (name) => request.header(name), rawBody: request.rawBody },
      { secret: this.config.drone.webhookSecret ?? '', maxSkewSeconds: this.config.drone.maxSkewSeconds },
    );
    if (!verdict.valid) {
      this.drone.countRejected('unauthorized');
      const hint = verdict.hint ? ` (${verdict.hint})` : '';
      this.logger.warn({ reason: verdict.reason, ip: request.ip }, `Drone webhook rejected: ${verdict.reason}${hint}`);
      throw new UnauthorizedException(verdict.reason);
    }

    let body: unknown;
    try {
      body = JSON.parse((request.rawBody ?? Buffer.alloc(0)).toString('utf8'));
    } catch {
      this.drone.countRejected('malformed');
      throw new BadRequestException('Body is not valid JSON');
    }

    // The signed Date and body: the same for a delivery sent again (replayable within the signature window), new for each
    // event Drone sends, so a redelivered one-off event makes no second message.
    const deliveryId = createHash('sha256')
      .update(`${request.header('date') ?? ''}\n`)
      .update(request.rawBody ?? Buffer.alloc(0))
      .digest('hex');
    const result = await this.drone.receive(body, deliveryId);
    return this.answer(result, response);
  }

  private answer(result: DroneWebhookOutcome, response: Response): DroneWebhookResultDoc {
    switch (result.outcome) {
      case 'malformed':
        throw new BadRequestException(`Malformed Drone webhook: ${result.reason}`);
      case 'failed':
        throw new BadGatewayException(
          result.buildId !== undefined
            ? `Discord did not take the message for build ${result.buildId} (${result.reason}); parked as outbox job ${result.jobId}, it is retried on the build's next event or by POST /outbox/${result.jobId}/retry`
            : `Discord did not take the ${result.event} message (${result.reason}); parked as outbox job ${result.jobId}, POST /outbox/${result.jobId}/retry sends it again`,
        );
      case 'shown':
      case 'posted':
        response.status(HttpStatus.OK);
        return result;
      case 'queued':
      case 'ignored':
        response.status(HttpStatus.ACCEPTED);
        return result;
    }
  }
}
