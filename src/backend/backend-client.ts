import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { BackendCallback } from './backend-callback';
import type { BackendAnswer, BackendProtocolClient } from './backend-request';
import type { DashboardCallback } from './dashboard-callback';
import { HeraldBackendProtocol } from './herald-backend-protocol';
import { LegacyBackendProtocol, renderServiceObjectOf } from './legacy-backend-protocol';

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
    if (this.protocol && protocol === 'legacy') warnIfBackendCannotDelete(config);
  }

  get configured(): boolean {
    return this.protocol !== null;
  }

  /** Resolves on a 2xx answer (or one as good); anything else (an error status, no answer) throws and is retried by the caller. */
  async deliver(callback: BackendCallback): Promise<BackendAnswer> {
    if (!this.protocol) throw new Error('BACKEND_URL is not set');
    return this.protocol.deliver(callback);
  }

  /** Tells the backend a metrics dashboard was rendered; resolves on a 2xx answer. */
  async deliverDashboard(callback: DashboardCallback): Promise<void> {
    if (!this.protocol) throw new Error('BACKEND_URL is not set');
    await this.protocol.deliverDashboard(callback);
  }
}

/**
 * The legacy backend deletes an image's object by cutting bucket and key out of `s3_urn` (S3_PUBLIC_URL + key): with a
 * base it cannot cut apart (a CDN, a path-style or non-AWS address) it deletes nothing and the objects stay.
 */
function warnIfBackendCannotDelete(config: AppConfig): void {
  const base = config.s3.publicUrl;
  if (!base) return;
  const probe = renderServiceObjectOf(`${base}/discord-images/1-general/2`);
  if (probe?.bucket === config.s3.bucket && probe.key === 'discord-images/1-general/2') return;
  new Logger(BackendClient.name).warn(
    { S3_PUBLIC_URL: base, S3_BUCKET: config.s3.bucket, backendWouldDelete: probe },
    `With BACKEND_PROTOCOL=legacy the backend deletes images by cutting bucket and key out of s3_urn; from this S3_PUBLIC_URL it would get the wrong ones and leave the objects in S3: set S3_PUBLIC_URL=https://${config.s3.bucket}.s3.amazonaws.com (or https://${config.s3.bucket}.s3.<region>.amazonaws.com)`,
  );
}
