import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { REQUIRED_SCOPES, ScopeGuard } from './scope.guard';
import type { Scope } from './scopes';
import { TokenThrottlerGuard } from './token-throttler.guard';

export const API_TOKEN_SCHEME = 'api-token';
/** OpenAPI extension on each protected operation; app.ts also writes it into the operation's description. */
export const SCOPES_EXTENSION = 'x-herald-scopes';

/**
 * The endpoint takes `Authorization: Bearer <token>` of a token holding one of `scopes` (401 unknown, 403 without the
 * scope) and counts the request against that token's rate limit for the scope that admitted it (429 + Retry-After).
 */
export function RequireScope(...scopes: [Scope, ...Scope[]]) {
  const named = scopes.map((scope) => `\`${scope}\``).join(' or ');
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    UseGuards(ScopeGuard, TokenThrottlerGuard),
    ApiBearerAuth(API_TOKEN_SCHEME),
    ApiExtension(SCOPES_EXTENSION, scopes),
    ApiUnauthorizedResponse({ description: 'Missing, malformed or unknown bearer token.' }),
    ApiForbiddenResponse({ description: `The token is valid but holds none of the scopes ${named}; the message names them.` }),
    ApiTooManyRequestsResponse({ description: "Over the token's rate limit for this scope (`API_RATE_LIMITS`); see `Retry-After`." }),
  );
}
