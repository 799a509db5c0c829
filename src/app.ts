import { INestApplication, Logger as NestLogger, RawBodyRequest, type LoggerService } from '@nestjs/common';
import mongoose from 'mongoose';
import { ModulesContainer, NestFactory, Reflector } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule, featureSummary, startupWarnings } from './app.module';
import { API_TOKEN_SCHEME } from './auth/require-scope.decorator';
import { describeScopes } from './auth/swagger-scopes';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { describeUnreadableJson, FormBodyGuard, JSON_BODY_TYPES, refuseUnreadBodies } from './common/json-body';
import { answerUnroutedBodies, RouteTable } from './common/routes';
import { createStartupLogger, HeraldLogger } from './common/logging';
import { HERALD_VERSION } from './health/service-index.controller';
import { ReadinessService } from './health/readiness.service';
import { createValidationPipe } from './common/validation';
import { AppConfig, describeFeatures } from './config/config';
import { errorMessage } from './common/errors';

/** Each connection attempt waits this long for a server before it counts as failed. */
const MONGODB_ATTEMPT_MS = 5000;
const MONGODB_RETRY_DELAY_MS = 1000;

/**
 * Waits until MongoDB answers, one JSON line per failed attempt, for at most MONGODB_STARTUP_TIMEOUT_MS; then
 * throws an error that names MongoDB. Without it a start-up against an unreachable MongoDB sat silent for over a
 * minute (Mongoose's own retries) and then failed with a bare stack.
 */
export async function waitForMongoDb(config: AppConfig, logger: LoggerService): Promise<void> {
  const started = Date.now();
  const where = mongoHost(config.mongo.uri);
  for (let attempt = 1; ; attempt++) {
    const remaining = config.mongo.startupTimeoutMs - (Date.now() - started);
    const connection = mongoose.createConnection(config.mongo.uri, {
      serverSelectionTimeoutMS: Math.max(500, Math.min(MONGODB_ATTEMPT_MS, remaining)),
      connectTimeoutMS: MONGODB_ATTEMPT_MS,
    });
    try {
      await connection.asPromise();
      await connection.db?.admin().ping();
      if (attempt > 1) logger.log({ mongodb: where, attempt }, `MongoDB at ${where} answered`, 'Startup');
      return;
    } catch (error) {
      const reason = errorMessage(error);
      const elapsedMs = Date.now() - started;
      if (elapsedMs + MONGODB_RETRY_DELAY_MS >= config.mongo.startupTimeoutMs) {
        throw new Error(
          `MongoDB at ${where} is unreachable: gave up after ${attempt} attempt(s) in ${elapsedMs} ms (MONGODB_STARTUP_TIMEOUT_MS=${config.mongo.startupTimeoutMs}): ${reason}`,
          { cause: error },
        );
      }
      logger.warn({ mongodb: where, attempt, elapsedMs, reason }, `MongoDB at ${where} is unreachable (attempt ${attempt}); retrying`, 'Startup');
      await new Promise((resolve) => setTimeout(resolve, MONGODB_RETRY_DELAY_MS));
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
}

/** host:port of a MongoDB URI, never its credentials. */
function mongoHost(uri: string): string {
  try {
    return new URL(uri).host || 'MongoDB';
  } catch {
    return uri.replace(/^[^@]*@/, '').split('/')[0] ?? 'MongoDB';
  }
}

/** Builds the whole service from one validated configuration (main.ts and the end-to-end tests share it). */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    logger: createStartupLogger(config),
    rawBody: true,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(new HeraldLogger(app.get(Logger)));
  // Every controller's routes; a body to a path or method none takes is a 404 or 405 before any parser reads it.
  const routes = new RouteTable(() => app.get(ModulesContainer));
  app.use(answerUnroutedBodies(routes));
  // Signed webhooks are verified over their exact bytes before anything parses them, so a forged
  // request with a broken body is refused as forged (401), not as malformed (400).
  app.use(
    '/drone/webhook',
    express.raw({
      type: () => true,
      limit: '5mb',
      verify: (request, _response, buffer) => void ((request as RawBodyRequest<express.Request>).rawBody = buffer),
    }),
  );
  app.useBodyParser('json', { limit: '10mb', type: JSON_BODY_TYPES });
  app.useBodyParser('urlencoded', { extended: true, limit: '1mb' });
  app.use(describeUnreadableJson(), refuseUnreadBodies());
  app.useGlobalGuards(new FormBodyGuard(new Reflector()));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter(routes));
  app.disable('x-powered-by');

  const document = describeScopes(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Herald')
        .setDescription(
          "Connects a team's systems to chat: Discord messages as images, metrics charts, Drone CI builds in Discord, " +
            'notifications over plain HTTP and VK community events. Endpoints marked with a lock take `Authorization: Bearer <token>`: ' +
            "SYSTEM_TOKEN, or a named token from API_TOKENS_FILE holding the scope written in the endpoint's description.",
        )
        .setVersion(HERALD_VERSION)
        .addBearerAuth(
          // Herald's tokens are opaque random strings compared by their SHA-256; the builder would call them JWT.
          {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'opaque',
            description: 'SYSTEM_TOKEN or a named API token (an opaque random string, not a JWT)',
          },
          API_TOKEN_SCHEME,
        )
        .build(),
    ),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', customSiteTitle: 'Herald API' });

  const features = describeFeatures(config);
  const logger = new NestLogger('Herald');
  logger.log({ features }, featureSummary(features));
  for (const warning of startupWarnings(config)) logger.warn(warning);
  return app;
}

/** A SIGINT this long after the first is a second Ctrl-C, not npm start's forwarded copy of the first. */
const SECOND_CTRL_C_AFTER_MS = 1000;

/**
 * The signals that stop Herald gracefully: SIGTERM (Kubernetes, compose), SIGINT (Ctrl-C) and SIGHUP (a closed
 * terminal), except where SIGHUP re-reads API_TOKENS_FILE instead (TokenRegistry).
 */
function shutdownSignals(config: AppConfig): NodeJS.Signals[] {
  return config.auth.tokensFile ? ['SIGTERM', 'SIGINT'] : ['SIGTERM', 'SIGINT', 'SIGHUP'];
}

/**
 * SIGTERM: the server stops listening at once (a new connection, a readiness probe's too, is refused; a request already
 * under way gets 503 from /health/ready), idle keep-alive connections close, every response from then on says
 * `Connection: close` (pooled clients and ingress controllers move to another pod; see HttpDrain), and in-flight requests get the whole
 * SHUTDOWN_TIMEOUT_MS to finish (a POST /notify?wait=true is answered at once); then Nest's shutdown hooks (browser, Discord, workers, MongoDB) get up to
 * SHUTDOWN_TIMEOUT_MS more. Kubernetes keeps sending new requests for a moment after SIGTERM (endpoints update
 * asynchronously): a preStop delay covers that (see README, Deploying). Nest's own signal handling re-raises the
 * signal (exit 143); Kubernetes and our tests expect a clean 0. The same for each of shutdownSignals.
 */
export function exitGracefullyOn(app: INestApplication, config: AppConfig): void {
  const logger = new NestLogger('Shutdown');
  const drain = new HttpDrain(app.getHttpServer() as Server);
  let stoppingSince: number | undefined;
  const stop = async (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // A person's second Ctrl-C, not the copy npm start forwards with the first (both arrive within milliseconds).
      if (signal === 'SIGINT' && performance.now() - stoppingSince >= SECOND_CTRL_C_AFTER_MS) {
        logger.warn({ signal }, 'Second Ctrl-C: exiting now, without waiting for the drain (unfinished jobs run again once their lease expires)');
        process.exit(130);
      }
      return;
    }
    stoppingSince = performance.now();
    logger.log({ signal, drainMs: config.shutdownTimeoutMs }, 'Shutting down: no new connections, draining the HTTP requests in flight');
    app.get(ReadinessService).stopping();
    const deadline = setTimeout(
      () => {
        logger.error('Shutdown took too long; exiting');
        process.exit(1);
      },
      2 * config.shutdownTimeoutMs + 1500,
    );
    deadline.unref();
    try {
      const drained = await drain.close(config.shutdownTimeoutMs);
      if (drained.finished) logger.log(drained, 'HTTP drain finished: every request in flight was answered');
      else logger.warn(drained, `HTTP drain hit its timeout (SHUTDOWN_TIMEOUT_MS=${config.shutdownTimeoutMs}); closing the connections left`);
      await app.close();
      logger.log('Stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'Shutdown failed');
      process.exit(1);
    }
  };
  // Kept for the whole shutdown: a terminal's Ctrl-C reaches both npm start and Herald, and npm start forwards its own,
  // so Herald gets the signal twice at once (ignored); with no listener left the second would kill it on the spot. A
  // Ctrl-C a second or more after the first is a person's: it exits at once.
  for (const signal of shutdownSignals(config)) process.on(signal, (received) => void stop(received));
}

export interface DrainOutcome {
  /** Every request in flight was answered and every connection closed before the timeout. */
  finished: boolean;
  /** Requests under way when the drain began. */
  inFlightAtStart: number;
  /** Requests that arrived on an open connection during the drain (each answered with `Connection: close`). */
  arrivedDuring: number;
  /** Requests still unanswered at the timeout (their connections were closed). */
  unfinished: number;
  ms: number;
}

/**
 * The HTTP side of a graceful stop. `server.close()` only stops accepting connections: a keep-alive connection busy at
 * that moment would go on carrying new requests for the whole drain. So from the drain on, every response (those in
 * flight whose headers are not out yet, and any request arriving on a connection still open) says `Connection: close`,
 * which makes Node end the connection once it is answered; a connection whose response had already begun is closed as
 * soon as it falls idle. The drain ends when the last connection has closed, or at the timeout.
 */
export class HttpDrain {
  private readonly inFlight = new Set<ServerResponse>();
  private draining = false;
  private arrivedDuring = 0;

  constructor(private readonly server: Server) {
    // First among the listeners: a request is counted, and told to close its connection, before Express sees it.
    server.prependListener('request', this.track);
  }

  private readonly track = (_request: IncomingMessage, response: ServerResponse) => {
    this.inFlight.add(response);
    response.once('close', () => {
      this.inFlight.delete(response);
      // A response that began before the drain kept its connection alive: close it now that it is idle.
      if (this.draining) setImmediate(() => this.server.closeIdleConnections());
    });
    if (this.draining) {
      this.arrivedDuring += 1;
      response.setHeader('Connection', 'close');
    }
  };

  close(timeoutMs: number): Promise<DrainOutcome> {
    const started = Date.now();
    this.draining = true;
    const inFlightAtStart = this.inFlight.size;
    for (const response of this.inFlight) if (!response.headersSent) response.setHeader('Connection', 'close');
    const outcome = (finished: boolean): DrainOutcome => ({
      finished,
      inFlightAtStart,
      arrivedDuring: this.arrivedDuring,
      unfinished: finished ? 0 : this.inFlight.size,
      ms: Date.now() - started,
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const timedOut = outcome(false);
        this.server.closeAllConnections();
        resolve(timedOut);
      }, timeoutMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve(outcome(true));
      });
      this.server.closeIdleConnections();
    });
  }
}
