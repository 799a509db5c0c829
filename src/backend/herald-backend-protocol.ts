import { sendToBackend, type BackendAnswer, type BackendProtocolClient } from './backend-request';
import type { BackendCallback } from './backend-callback';
import type { DashboardCallback } from './dashboard-callback';

/** Herald's own protocol: the callback as JSON, POSTed to BACKEND_URL with a bearer token and an idempotency key. */
export class HeraldBackendProtocol implements BackendProtocolClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async deliver(callback: BackendCallback | DashboardCallback): Promise<BackendAnswer> {
    await this.post(callback);
    return 'acknowledged';
  }

  /** The same JSON POST, told apart by `event: "dashboard.rendered"`. */
  deliverDashboard(callback: DashboardCallback): Promise<void> {
    return this.post(callback);
  }

  private post(callback: BackendCallback | DashboardCallback): Promise<void> {
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
