import type { BackendCallback } from './backend-callback';
import type { DashboardCallback } from './dashboard-callback';

const CALLBACK_TIMEOUT_MS = 10_000;

export class BackendRefusedError extends Error {
  constructor(readonly status: number) {
    super(`backend answered HTTP ${status}`);
    this.name = 'BackendRefusedError';
  }
}

/** One way of telling the backend about a callback: resolves on a 2xx answer, throws on anything else. */
export interface BackendProtocolClient {
  deliver(callback: BackendCallback): Promise<void>;
  deliverDashboard(callback: DashboardCallback): Promise<void>;
}

/** Sends one request to the backend; anything but a 2xx answer throws (BackendRefusedError for an error status). */
export async function sendToBackend(url: string | URL, init: RequestInit): Promise<void> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS) });
  // Read the body so the connection goes back to the pool.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new BackendRefusedError(response.status);
}
