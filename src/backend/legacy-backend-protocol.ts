import { BackendRefusedError, sendToBackend, type BackendAnswer, type BackendProtocolClient } from './backend-request';
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
 *
 * That backend answers a delete with 404 ("Image does not exist in attached chennels") unless the message is still one
 * of the 3 newest it keeps for a channel shown on one of its screens (its POST drops the oldest, object and all): in
 * normal operation most deletes get it. The render service never looked at the answer; here it means "nothing to
 * delete", which is done. Its POST and PUT answer 2xx to any call with the right token and every parameter, so a 4xx
 * to them is a fault (a wrong token or BACKEND_URL) and is handled as for any backend.
 */
export class LegacyBackendProtocol implements BackendProtocolClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async deliver(callback: BackendCallback): Promise<BackendAnswer> {
    const { method, url } = this.request(callback);
    try {
      await sendToBackend(url, { method, headers: { authorize: this.token } });
      return 'acknowledged';
    } catch (error) {
      if (callback.event === 'deleted' && error instanceof BackendRefusedError && error.status === 404) return 'nothing-to-delete';
      throw error;
    }
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
            s3_urn: callback.url ? asRenderServiceUrl(callback.url) : (callback.urn ?? ''),
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

/**
 * The public URL as the render service wrote it: the key as stored, not percent-encoded. Its backend keeps it and
 * deletes the object by cutting it apart (bucket = the host's first label, key = everything after ".com/"), so a key
 * segment Herald encoded (a channel or thread name with a space or a non-ASCII letter) would name a key that does not
 * exist, and the object would stay for ever. Decoding the path also mends callbacks queued before this was so.
 */
export function asRenderServiceUrl(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return url;
  const path = url
    .slice(start)
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
  return url.slice(0, start) + path.join('/');
}

/**
 * The bucket and key the render service's backend cuts out of an `s3_urn` to delete its object (`delete_s3_object`:
 * the host's first label, and what follows the first ".com/"); null when it cannot (it would fail).
 */
export function renderServiceObjectOf(url: string): { bucket: string; key: string } | null {
  const afterScheme = url.split('//')[1];
  const afterCom = url.split('.com')[1];
  if (afterScheme === undefined || afterCom === undefined) return null;
  return { bucket: afterScheme.split('.')[0], key: afterCom.slice(1) };
}
