import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { apiClientOf } from '../auth/api-client';
import type { AppConfig } from '../config/config';

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
      transport: config.log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
    },
  };
}
