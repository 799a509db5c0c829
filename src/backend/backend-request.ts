import type { BackendCallback } from './backend-callback';
import type { DashboardCallback } from './dashboard-callback';

const CALLBACK_TIMEOUT_MS = 10_000;

/** What an answer usually means on a new setup, for the retry's or the parked job's reason. */
const TOKEN_REFUSED = "it refused Herald's token: BACKEND_TOKEN (SYSTEM_TOKEN when unset) must be the one it expects; retried until it is";
const NOT_THE_ENDPOINT = 'is BACKEND_URL the address of its callback endpoint?';
const WHAT_TO_CHECK: Record<number, string> = { 401: TOKEN_REFUSED, 403: TOKEN_REFUSED, 404: NOT_THE_ENDPOINT, 405: NOT_THE_ENDPOINT };

export class BackendRefusedError extends Error {
  constructor(readonly status: number) {
    super(`backend answered HTTP ${status}${WHAT_TO_CHECK[status] ? ` (${WHAT_TO_CHECK[status]})` : ''}`);
    this.name = 'BackendRefusedError';
  }
}

/**
 * How a backend took a callback: acknowledged it (2xx), or answered that it holds nothing to delete (the legacy
 * backend's 404 to a delete, see LegacyBackendProtocol): either way nothing is left to do.
 */
export type BackendAnswer = 'acknowledged' | 'nothing-to-delete';

/** One way of telling the backend about a callback: resolves on a 2xx answer (or one as good), throws on anything else. */
export interface BackendProtocolClient {
  deliver(callback: BackendCallback): Promise<BackendAnswer>;
  deliverDashboard(callback: DashboardCallback): Promise<void>;
}

/** Sends one request to the backend; anything but a 2xx answer throws (BackendRefusedError for an error status). */
export async function sendToBackend(url: string | URL, init: RequestInit): Promise<void> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS) });
  // Read the body so the connection goes back to the pool.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new BackendRefusedError(response.status);
}
