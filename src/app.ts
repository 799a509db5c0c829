import { INestApplication, Logger as NestLogger, RawBodyRequest } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule, featureSummary, startupWarnings } from './app.module';
import { API_TOKEN_SCHEME } from './auth/require-scope.decorator';
import { describeScopes } from './auth/swagger-scopes';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { createValidationPipe } from './common/validation';
import { AppConfig, describeFeatures } from './config/config';

/** Builds the whole service from one validated configuration (main.ts and the end-to-end tests share it). */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bufferLogs: true,
    rawBody: true,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
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
  app.useBodyParser('json', { limit: '10mb' });
  app.useBodyParser('urlencoded', { extended: true, limit: '1mb' });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  app.disable('x-powered-by');

  const document = describeScopes(
    SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Herald')
      .setDescription(
        'Connects a team\'s systems to chat: Discord messages as images, metrics charts, Drone CI builds in Discord, ' +
          'notifications over plain HTTP and VK community events. Endpoints marked with a lock take `Authorization: Bearer <token>`: ' +
          'SYSTEM_TOKEN, or a named token from API_TOKENS_FILE holding the scope written in the endpoint\'s description.',
      )
      .setVersion(process.env.npm_package_version ?? '0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'SYSTEM_TOKEN or a named API token' }, API_TOKEN_SCHEME)
      .build(),
    ),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  const features = describeFeatures(config);
  const logger = new NestLogger('Herald');
  logger.log({ features }, featureSummary(features));
  for (const warning of startupWarnings(config)) logger.warn(warning);
  return app;
}

/**
 * SIGTERM: stop accepting connections, let in-flight requests finish, then run Nest's shutdown hooks
 * (browser, Discord, workers, MongoDB). Nest's own signal handling re-raises the signal (exit 143); Kubernetes
 * and our tests expect a clean 0.
 */
export function exitGracefullyOn(app: INestApplication, config: AppConfig, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  const logger = new NestLogger('Shutdown');
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log({ signal }, 'Shutting down');
    const deadline = setTimeout(() => {
      logger.error('Shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 1500);
    deadline.unref();
    try {
      await closeHttp(app.getHttpServer() as Server, config.shutdownTimeoutMs / 2);
      await app.close();
      logger.log('Stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'Shutdown failed');
      process.exit(1);
    }
  };
  for (const signal of signals) process.once(signal, (received) => void stop(received));
}

function closeHttp(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
