import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import mongoose from 'mongoose';
import { DependencyUnavailableError, ServiceBusyError } from './errors';
import type { RouteTable } from './routes';

/** Every error leaves as JSON `{ statusCode, error, message, ... }`; unexpected ones are logged, not leaked. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  /** `routes` tells a method a path does not take (405, or OPTIONS answered) from a path nothing serves (404). */
  constructor(private readonly routes?: RouteTable) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const payload =
        typeof body === 'string' ? { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: body } : { statusCode: status, ...body };
      if (status === HttpStatus.NOT_FOUND && isNoSuchRoute(payload)) {
        const request = host.switchToHttp().getRequest<Request>();
        const methods = this.routes?.methodsFor(request.path) ?? [];
        if (methods.length > 0 && !methods.includes('ALL')) return answerOtherMethods(request, response, methods);
        payload.message = `${payload.message}: ${NO_SUCH_ROUTE_HINT}`;
      }
      response.status(status).json(payload);
      return;
    }
    const bodyError = bodyParserError(exception);
    if (bodyError) {
      response
        .status(bodyError.status)
        .json({ statusCode: bodyError.status, error: STATUS_CODES[bodyError.status] ?? 'Error', message: bodyError.message });
      return;
    }
    const unavailable = exception instanceof Error && isMongoUnreachable(exception) ? mongoUnavailable(exception) : exception;
    if (unavailable instanceof ServiceBusyError || unavailable instanceof DependencyUnavailableError) {
      if (unavailable !== exception) this.logger.warn({ err: exception }, 'MongoDB unreachable; answered 503');
      response
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .setHeader('Retry-After', String(unavailable.retryAfterSeconds))
        .json({
          statusCode: HttpStatus.SERVICE_UNAVAILABLE,
          error: 'Service Unavailable',
          message: unavailable.message,
          ...(unavailable instanceof DependencyUnavailableError ? { dependency: unavailable.dependency, ...unavailable.details } : {}),
        });
      return;
    }
    this.logger.error({ err: exception }, 'Unhandled error');
    response
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json({ statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: 'Internal Server Error', message: 'Internal server error' });
  }
}

/** Said after Nest's "Cannot GET /path" for a path and method no endpoint serves. */
export const NO_SUCH_ROUTE_HINT = "no endpoint here: Herald's endpoints are listed at /docs, and GET / names the features this process runs";

/**
 * A path Herald serves, asked with a method it does not take: `OPTIONS` is answered 204 with `Allow` (as Express
 * answers it when nothing else does), any other method 405 with `Allow` (RFC 9110, 15.5.6) and a message naming them.
 */
function answerOtherMethods(request: Request, response: Response, methods: string[]): void {
  const allow = [...new Set([...methods, 'OPTIONS'])].join(', ');
  response.setHeader('Allow', allow);
  if (request.method === 'OPTIONS') {
    response.status(HttpStatus.NO_CONTENT).end();
    return;
  }
  response.status(HttpStatus.METHOD_NOT_ALLOWED).json({
    statusCode: HttpStatus.METHOD_NOT_ALLOWED,
    error: 'Method Not Allowed',
    message: `${request.method} is not allowed on ${request.path}: it takes ${allow} (see /docs)`,
  });
}

/** Nest's own 404 for a request no route matched (its router's "Cannot METHOD /path"), not a controller's. */
function isNoSuchRoute(payload: { message?: unknown }): payload is { message: string } {
  return typeof payload.message === 'string' && /^Cannot [A-Z]+ \//.test(payload.message);
}

/**
 * The client errors Express's body parsers raise before a request reaches a controller (http-errors objects with
 * `expose`): a body over the limit (413), an unsupported charset or encoding (415). (Nest itself turns malformed
 * JSON into a BadRequestException.)
 */
function bodyParserError(exception: unknown): { status: number; message: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { status, type, expose, limit } = exception as Error & { status?: unknown; type?: unknown; expose?: unknown; limit?: unknown };
  if (expose !== true || typeof status !== 'number' || status < 400 || status > 499 || typeof type !== 'string') return undefined;
  if (type === 'entity.too.large') {
    return { status, message: `Request body is larger than this endpoint takes (${typeof limit === 'number' ? `${limit} bytes` : 'its limit'})` };
  }
  return { status, message: exception.message };
}

const { MongoNetworkError, MongoServerSelectionError, MongoNotConnectedError, MongoTopologyClosedError } = mongoose.mongo;

/** The driver could not reach MongoDB (no server within MONGODB_TIMEOUT_MS, or the connection dropped). */
export function isMongoUnreachable(error: Error): boolean {
  return (
    error instanceof mongoose.Error.MongooseServerSelectionError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  );
}

function mongoUnavailable(error: Error): DependencyUnavailableError {
  return new DependencyUnavailableError('mongodb', `MongoDB is unreachable (${error.name}); try again`);
}
