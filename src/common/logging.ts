import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { apiClientOf } from '../auth/api-client';
import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { ConfigError, type AppConfig } from '../config/config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Paths pino must never print: credentials travel in these. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.signature',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.secret',
  '*.password',
  '*.systemToken',
  '*.webhookSecret',
  '*.secretAccessKey',
];

const tokenNameOf = (request: IncomingMessage) => apiClientOf(request)?.client.name ?? null;

/** JSON lines with a request id on every line logged while serving a request. */
export function loggerParams(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.log.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      genReqId: (request: IncomingMessage, response: ServerResponse) => {
        const incoming = request.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        response.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info'),
      // The access line names the token a request carried (null for none or an unknown one); never the token.
      customSuccessObject: (request, _response, line: object) => ({ ...line, tokenName: tokenNameOf(request) }),
      customErrorObject: (request, _response, _error, line: object) => ({ ...line, tokenName: tokenNameOf(request) }),
      autoLogging: { ignore: (request) => Boolean(request.url?.startsWith('/health/')) },
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
      },
      transport: prettyTransport(config),
    },
  };
}

/** The pino options Herald logs with, inside and outside requests alike. */
export function pinoOptions(config: AppConfig): LoggerOptions {
  return {
    level: config.log.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    transport: prettyTransport(config),
  };
}

/**
 * LOG_PRETTY's lines, for a person at a terminal: `[12:00:00.000] INFO: [Herald] Features on: …`. The context leads the
 * line instead of trailing it as JSON; the pid, an access line's response headers and the start-up line's `features`
 * list (its message already says it) are left to the JSON lines.
 */
function prettyTransport(config: AppConfig): LoggerOptions['transport'] {
  if (!config.log.pretty) return undefined;
  return {
    target: 'pino-pretty',
    options: { singleLine: true, ignore: 'pid,hostname,context,features,res.headers', messageFormat: '{if context}[{context}] {end}{msg}' },
  };
}

/**
 * Where Nest narrates its own start-up: a line per module initialised and per route mapped (about fifty), then
 * "Nest application successfully started". Logged at debug, so the lines a person needs at start-up (the features on,
 * the warnings, "Listening on") are the ones they see; `LOG_LEVEL=debug` shows them again.
 */
const NEST_BOOTSTRAP_CONTEXTS: ReadonlySet<string> = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

function isBootstrapChatter(params: unknown[]): boolean {
  const context = params[params.length - 1];
  return typeof context === 'string' && NEST_BOOTSTRAP_CONTEXTS.has(context);
}

/**
 * A configuration problem found while the modules are built (a routes or tokens file) is thrown to main.ts, which ends
 * the start with one fatal line naming each problem; Nest's own report of it (its stack, ~20 lines) is left out.
 */
function isConfigProblemReport(message: unknown, params: unknown[]): boolean {
  return message instanceof ConfigError && params[params.length - 1] === 'ExceptionHandler';
}

/** nestjs-pino's logger, with Nest's start-up narration (above) at debug instead of info. */
export class HeraldLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    if (isBootstrapChatter(params)) this.inner.debug?.(message, ...params);
    else this.inner.log(message, ...params);
  }
  error(message: unknown, ...params: unknown[]): void {
    if (!isConfigProblemReport(message, params)) this.inner.error(message, ...params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.inner.fatal?.(message, ...params);
  }
}

/**
 * Nest's logger until nestjs-pino's is ready: the same JSON lines from the first moment, so a start-up that fails
 * (MongoDB unreachable, a module that throws) is not printed as Nest's coloured text.
 */
export class StartupLogger implements LoggerService {
  constructor(private readonly pino: PinoLogger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write(isBootstrapChatter(params) ? 'debug' : 'info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    if (!isConfigProblemReport(message, params)) this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', message: unknown, params: unknown[]): void {
    // Nest passes the context last; Herald's own calls pass (fields, message, context).
    const context = params.length && typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const stack = level === 'error' && typeof params[0] === 'string' && params[0].includes('\n    at ') ? (params.shift() as string) : undefined;
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      const text = typeof params[0] === 'string' ? params[0] : undefined;
      this.pino[level]({ ...(message as Record<string, unknown>), context, ...(stack && { stack }) }, text);
    } else if (message instanceof Error) {
      this.pino[level]({ err: message, context }, message.message);
    } else {
      this.pino[level]({ context, ...(stack && { stack }) }, String(message));
    }
  }
}

export function createStartupLogger(config: AppConfig): StartupLogger {
  return new StartupLogger(pino(pinoOptions(config)));
}
