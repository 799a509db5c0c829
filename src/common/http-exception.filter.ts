import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { DependencyUnavailableError, ServiceBusyError } from './errors';

/** Every error leaves as JSON `{ statusCode, error, message, ... }`; unexpected ones are logged, not leaked. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const payload =
        typeof body === 'string' ? { statusCode: status, error: HttpStatus[status] ?? 'Error', message: body } : { statusCode: status, ...body };
      response.status(status).json(payload);
      return;
    }
    if (exception instanceof ServiceBusyError || exception instanceof DependencyUnavailableError) {
      response
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .setHeader('Retry-After', String(exception.retryAfterSeconds))
        .json({
          statusCode: HttpStatus.SERVICE_UNAVAILABLE,
          error: 'Service Unavailable',
          message: exception.message,
          ...(exception instanceof DependencyUnavailableError ? { dependency: exception.dependency } : {}),
        });
      return;
    }
    this.logger.error({ err: exception }, 'Unhandled error');
    response
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json({ statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: 'Internal Server Error', message: 'Internal server error' });
  }
}
