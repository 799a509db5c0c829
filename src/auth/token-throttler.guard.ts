import { ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  getOptionsToken,
  getStorageToken,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { AppConfig } from '../config/config';
import { apiClientOf } from './api-client';

/**
 * Rate limits per token name and scope (API_RATE_LIMITS): the old and new token of a rotation share one budget.
 * Runs after ScopeGuard, which has named the client and the scope the request is counted under.
 */
@Injectable()
export class TokenThrottlerGuard extends ThrottlerGuard {
  constructor(
    @Inject(getOptionsToken()) options: ThrottlerModuleOptions,
    @Inject(getStorageToken()) storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    super(options, storage, reflector);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const authenticated = apiClientOf(context.switchToHttp().getRequest<object>());
    throw new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message:
          `The token "${authenticated?.client.name}" made more than ${detail.limit} "${authenticated?.scope}" requests ` +
          `in ${detail.ttl / 1000} s; retry after ${detail.timeToBlockExpire} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** The throttler's options: one throttler whose limit and window come from the scope the request was admitted by. */
export function throttlerOptions(config: AppConfig): ThrottlerModuleOptions {
  const limitOf = (context: ExecutionContext) => {
    const authenticated = apiClientOf(context.switchToHttp().getRequest<object>());
    return authenticated?.scope ? config.auth.rateLimits[authenticated.scope] : null;
  };
  return {
    throttlers: [
      {
        name: 'default',
        limit: (context) => limitOf(context)?.limit ?? 0,
        ttl: (context) => (limitOf(context)?.windowSeconds ?? 0) * 1000,
        skipIf: (context) => !limitOf(context),
        getTracker: (request) => apiClientOf(request)?.client.name ?? '',
        generateKey: (context, tracker) => `${tracker}:${apiClientOf(context.switchToHttp().getRequest<object>())?.scope}`,
      },
    ],
  };
}
