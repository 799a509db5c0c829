import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { BackendCallback } from './backend-callback';
import type { BackendProtocolClient } from './backend-request';
import type { DashboardCallback } from './dashboard-callback';
import { HeraldBackendProtocol } from './herald-backend-protocol';
import { LegacyBackendProtocol } from './legacy-backend-protocol';

/**
 * The team's backend (BACKEND_URL), told about every message image and every dashboard render; it authenticates Herald by BACKEND_TOKEN (SYSTEM_TOKEN unless set).
 * BACKEND_PROTOCOL picks how: Herald's JSON callbacks, or the calls the render service made (legacy).
 */
@Injectable()
export class BackendClient {
  private readonly protocol: BackendProtocolClient | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const { url, protocol, token } = config.backend;
    if (!url || !token) this.protocol = null;
    else this.protocol = protocol === 'legacy' ? new LegacyBackendProtocol(url, token) : new HeraldBackendProtocol(url, token);
  }

  get configured(): boolean {
    return this.protocol !== null;
  }

  /** Resolves on a 2xx answer; anything else (an error status, no answer) throws and is retried by the caller. */
  async deliver(callback: BackendCallback): Promise<void> {
    if (!this.protocol) throw new Error('BACKEND_URL is not set');
    await this.protocol.deliver(callback);
  }

  /** Tells the backend a metrics dashboard was rendered; resolves on a 2xx answer. */
  async deliverDashboard(callback: DashboardCallback): Promise<void> {
    if (!this.protocol) throw new Error('BACKEND_URL is not set');
    await this.protocol.deliverDashboard(callback);
  }
}
