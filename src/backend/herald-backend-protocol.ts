import { sendToBackend, type BackendProtocolClient } from './backend-request';
import type { BackendCallback } from './backend-callback';

/** Herald's own protocol: the callback as JSON, POSTed to BACKEND_URL with a bearer token and an idempotency key. */
export class HeraldBackendProtocol implements BackendProtocolClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  deliver(callback: BackendCallback): Promise<void> {
    return sendToBackend(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${this.token}`,
        'idempotency-key': callback.idempotencyKey,
      },
      body: JSON.stringify(callback),
    });
  }
}
