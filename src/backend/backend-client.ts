import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { BackendCallback } from '../discord-bot/message-image.schema';

const CALLBACK_TIMEOUT_MS = 10_000;

export class BackendRefusedError extends Error {
  constructor(readonly status: number) {
    super(`backend answered HTTP ${status}`);
    this.name = 'BackendRefusedError';
  }
}

/** The team's backend (BACKEND_URL), told about every message image; it authenticates Herald by SYSTEM_TOKEN. */
@Injectable()
export class BackendClient {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get configured(): boolean {
    return Boolean(this.config.backend.url);
  }

  /** Resolves on a 2xx answer; anything else (an error status, no answer) throws and is retried by the caller. */
  async deliver(callback: BackendCallback): Promise<void> {
    const url = this.config.backend.url;
    if (!url) throw new Error('BACKEND_URL is not set');
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${this.config.auth.systemToken}`,
        'idempotency-key': callback.idempotencyKey,
      },
      body: JSON.stringify(callback),
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    // Read the body so the connection goes back to the pool.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new BackendRefusedError(response.status);
  }
}
