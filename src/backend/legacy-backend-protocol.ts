import { sendToBackend, type BackendProtocolClient } from './backend-request';
import type { BackendCallback } from './backend-callback';
import type { DashboardCallback } from './dashboard-callback';

/**
 * The calls the render service made, so a backend written for it works unchanged (BACKEND_PROTOCOL=legacy): paths
 * appended to BACKEND_URL, everything in the query string, no body, the token as `Authorize: <token>`.
 *
 * - created: POST   /discord/images?s3_urn=<public URL>&guild=<guild id>&channel=<channel name>&jump_url=<message link>
 * - updated: PUT    /discord/images?jump_url=<message link> (the image was rendered again to the same key)
 * - deleted: DELETE /discord/bot/images?message_link=<message link>
 * - a dashboard rendered: POST /metrics/images with the JSON map { "<panel id>": "<public URL>" }
 */
export class LegacyBackendProtocol implements BackendProtocolClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  deliver(callback: BackendCallback): Promise<void> {
    const { method, url } = this.request(callback);
    return sendToBackend(url, { method, headers: { authorize: this.token } });
  }

  deliverDashboard(callback: DashboardCallback): Promise<void> {
    const { url, body } = this.dashboardRequest(callback);
    return sendToBackend(url, { method: 'POST', headers: { authorize: this.token, 'content-type': 'application/json' }, body });
  }

  /** The render service's map: each panel's public URL (S3_PUBLIC_URL is required with this protocol). */
  dashboardRequest(callback: DashboardCallback): { url: URL; body: string } {
    const map = Object.fromEntries(Object.entries(callback.panels).map(([id, panel]) => [id, panel.url ?? panel.urn]));
    return { url: this.url('/metrics/images', {}), body: JSON.stringify(map) };
  }

  request(callback: BackendCallback): { method: string; url: URL } {
    const link = callback.jumpUrl ?? `https://discord.com/channels/${callback.guildId}/${callback.channelId}/${callback.messageId}`;
    switch (callback.event) {
      case 'created':
        return {
          method: 'POST',
          url: this.url('/discord/images', {
            // S3_PUBLIC_URL is required with this protocol; a callback queued before it was set has only the URN.
            s3_urn: callback.url ?? callback.urn ?? '',
            guild: callback.guildId,
            channel: callback.channelName ?? callback.channelId,
            jump_url: link,
          }),
        };
      case 'updated':
        return { method: 'PUT', url: this.url('/discord/images', { jump_url: link }) };
      case 'deleted':
        return { method: 'DELETE', url: this.url('/discord/bot/images', { message_link: link }) };
    }
  }

  private url(path: string, query: Record<string, string>): URL {
    const url = new URL(this.baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url;
  }
}
