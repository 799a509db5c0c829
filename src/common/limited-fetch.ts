const MAX_REDIRECTS = 3;

/** Herald would not fetch this (host off the allowlist, too large, too many redirects): not worth retrying. */
export class FetchRefused extends Error {}

export interface FetchLimits {
  /** Checked for the first URL and every redirect: a redirect must not lead off the allowlist. */
  isAllowed(url: URL): boolean;
  /** Names the allowlist setting in the refusal, e.g. RENDER_FETCH_ALLOWLIST. */
  allowlistSetting: string;
  maxBytes: number;
  /** Names the size setting in the refusal, e.g. RENDER_FETCH_MAX_BYTES. */
  maxBytesSetting: string;
  signal: AbortSignal;
  headers?: Record<string, string>;
}

/** A response Herald read itself. */
export interface FetchedBody {
  status: number;
  contentType: string | null;
  bytes: Buffer;
}

/**
 * GET within limits: only allowlisted hosts (every hop), redirects followed by hand (at most 3), the body read up
 * to `maxBytes`. Used where Herald fetches on a page's behalf (pictures, dashboard data), so the page never does.
 * Any status is answered; `onlyOk` turns a non-2xx into an error naming it.
 */
export async function fetchWithinLimits(start: URL, limits: FetchLimits, onlyOk = true): Promise<FetchedBody> {
  let url = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!limits.isAllowed(url)) throw new FetchRefused(`host ${url.host} is not in ${limits.allowlistSetting}`);
    const response = await fetch(url, { redirect: 'manual', signal: limits.signal, headers: limits.headers });
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      await response.body?.cancel();
      url = new URL(response.headers.get('location')!, url);
      continue;
    }
    if (onlyOk && !response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    return { status: response.status, contentType: response.headers.get('content-type'), bytes: await readLimited(response, limits) };
  }
  throw new FetchRefused(`more than ${MAX_REDIRECTS} redirects`);
}

async function readLimited(response: Response, limits: FetchLimits): Promise<Buffer> {
  const limit = limits.maxBytes;
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new FetchRefused(`${declared} bytes is over ${limits.maxBytesSetting} (${limit})`);
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new FetchRefused(`more than ${limits.maxBytesSetting} (${limit}) bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** Allowlist entries are host names (`cdn.example.com`), `host:port` pairs, or `*.suffix` wildcards. */
export function hostAllowed(url: URL, allowlist: readonly string[]): boolean {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  return allowlist.some((entry) => (entry.startsWith('*.') ? hostname.endsWith(entry.slice(1)) : entry === hostname || entry === host));
}
