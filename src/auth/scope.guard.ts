import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { setApiClient } from './api-client';
import type { Scope } from './scopes';
import { TokenRegistry } from './token-registry';

export const REQUIRED_SCOPES = 'herald:requiredScopes';

/** The route as declared (`/notify/:id`), not the URL called, so the message names the endpoint. */
const routePath = (request: Request): string => (request.route as { path?: string } | undefined)?.path ?? request.path;

/**
 * The scope a request is admitted and counted under, whatever order the endpoint declares its scopes in: `read` when
 * the endpoint takes it and the token holds it (a dashboard's polling never eats the budget of the feature's actions),
 * else the endpoint's feature scope the token holds.
 */
export function admittingScope(required: readonly Scope[], held: ReadonlySet<Scope>): Scope | undefined {
  if (required.includes('read') && held.has('read')) return 'read';
  return required.find((candidate) => held.has(candidate));
}

/** Admits a request whose bearer token is known (else 401) and holds one of the endpoint's scopes (else 403). */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenRegistry,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const required = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, [context.getHandler(), context.getClass()]) ?? [];
    const header = request.headers.authorization;
    if (!header) {
      // The render service's clients sent "Authorize: <token>"; say why that header is not enough here.
      const legacy = request.headers.authorize ? ' (the render service\'s "Authorize: <token>" header is not read here)' : '';
      throw new UnauthorizedException(`Missing Authorization header: send "Authorization: Bearer <token>"${legacy}`);
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
    if (!match) throw new UnauthorizedException('Authorization header must use the Bearer scheme: send "Authorization: Bearer <token>"');
    const client = this.tokens.authenticate(match[1]);
    if (!client) throw new UnauthorizedException('Invalid bearer token');
    const scope = admittingScope(required, client.scopes);
    setApiClient(request, { client, scope });
    if (!scope) {
      const needed = required.map((candidate) => `"${candidate}"`).join(' or ');
      throw new ForbiddenException(
        `The token "${client.name}" lacks the scope ${needed || '(none declared)'} that ${request.method} ${routePath(request)} needs`,
      );
    }
    return true;
  }
}
