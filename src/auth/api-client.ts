import type { ApiClient } from './token-registry';
import type { Scope } from './scopes';

const CLIENT = Symbol('herald.apiClient');

interface Authenticated {
  client: ApiClient;
  /** The scope that admitted the request (its rate limit is the one counted); undefined when refused with 403. */
  scope: Scope | undefined;
}

type RequestLike = object & { [CLIENT]?: Authenticated };

/** Set by ScopeGuard once it knows the token, so the access log names the client even when it is refused. */
export function setApiClient(request: object, authenticated: Authenticated): void {
  (request as RequestLike)[CLIENT] = authenticated;
}

/** The client (and scope) ScopeGuard found; undefined for open endpoints and unknown tokens. */
export function apiClientOf(request: object): Authenticated | undefined {
  return (request as RequestLike)[CLIENT];
}
