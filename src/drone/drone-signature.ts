/**
 * Verifies a Drone global webhook the way Drone signs it. Drone (`plugin/webhook/webhook.go`) sets
 *   Digest: SHA-256=<base64 sha256 of the body bytes>
 *   Date: <UTC, http.TimeFormat>
 * and then signs with github.com/99designs/httpsignatures-go@88528bf4ca7e
 * (`NewSigner(AlgorithmHmacSha256, "date", "digest").SignRequest("hmac-key", secret, req)`), which adds
 *   Signature: keyId="hmac-key",algorithm="hmac-sha256",signature="<base64>",headers="date digest"
 * where the signature is base64(HMAC-SHA256(secret, "date: <Date>\ndigest: <Digest>")): each signed header
 * name lower-cased, ": ", its first value, lines joined by a bare "\n" with no trailing newline.
 */
import { createHash, createHmac } from 'node:crypto';
import { safeEqual } from '../common/safe-equal';

export interface DroneSignedRequest {
  method: string;
  /** Path and query as received; only used if a sender signs `(request-target)`. */
  url: string;
  /** First value of a request header, looked up case-insensitively. */
  header(name: string): string | undefined;
  /** The body bytes exactly as received (never re-serialised JSON). */
  rawBody: Buffer | undefined;
}

export interface DroneSignatureOptions {
  secret: string;
  /** How far the signed Date may be from our clock, either way. */
  maxSkewSeconds: number;
  now?: Date;
}

/** `hint`: what the operator should check, for the log (a refusal a setup problem usually causes). */
export type DroneSignatureVerdict = { valid: true } | { valid: false; reason: string; hint?: string };

/** A signature that does not match is, on a new setup, almost always two different secrets. */
const SECRET_MISMATCH_HINT = 'is DRONE_WEBHOOK_SECRET the same value here and on the Drone server?';

export interface ParsedSignature {
  keyId: string;
  algorithm: string;
  headers: string[];
  signature: string;
}

/** Same grammar as httpsignatures-go `FromString`: key="value" pairs, anything else between them ignored. */
const SIGNATURE_PARAM = /(\w+)="([^"]*)"/g;
const REQUEST_TARGET = '(request-target)';
/** Drone signs exactly these; a signature that leaves either out does not authenticate the body or its age. */
const REQUIRED_SIGNED_HEADERS = ['date', 'digest'];

export function parseSignatureHeader(value: string): ParsedSignature | string {
  const params = new Map<string, string>();
  for (const [, key, paramValue] of value.matchAll(SIGNATURE_PARAM)) {
    if (!['keyId', 'algorithm', 'headers', 'signature'].includes(key)) return `unexpected parameter "${key}"`;
    params.set(key, paramValue);
  }
  const signature = params.get('signature');
  const keyId = params.get('keyId');
  const algorithm = params.get('algorithm');
  if (!signature) return 'missing signature parameter';
  if (!keyId) return 'missing keyId parameter';
  if (!algorithm) return 'missing algorithm parameter';
  const headers = (params.get('headers') ?? '').toLowerCase().split(' ').filter(Boolean);
  return { keyId, algorithm, headers, signature };
}

/** The string httpsignatures-go HMACs: `name: value` per signed header, joined by "\n". */
export function signingString(
  headers: readonly string[],
  request: Pick<DroneSignedRequest, 'method' | 'url' | 'header'>,
): string | { missing: string } {
  const lines: string[] = [];
  for (const name of headers) {
    if (name === REQUEST_TARGET) {
      lines.push(`${REQUEST_TARGET}: ${request.method.toLowerCase()} ${request.url}`);
      continue;
    }
    const value = request.header(name);
    if (value === undefined || value === '') return { missing: name };
    lines.push(`${name}: ${value}`);
  }
  return lines.join('\n');
}

export function hmacSha256Base64(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('base64');
}

export function sha256Base64(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

/** The SHA-256 entry of an RFC 3230 `Digest` header (`SHA-256=abc=, MD5=...`); the algorithm token is case-insensitive. */
function sha256FromDigestHeader(value: string): string | undefined {
  for (const entry of value.split(',')) {
    const separator = entry.indexOf('=');
    if (separator < 0) continue;
    if (entry.slice(0, separator).trim().toLowerCase() === 'sha-256') return entry.slice(separator + 1).trim();
  }
  return undefined;
}

function headerLabel(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function verifyDroneSignature(request: DroneSignedRequest, options: DroneSignatureOptions): DroneSignatureVerdict {
  const signatureHeader = request.header('signature');
  if (!signatureHeader) return invalid('missing Signature header');
  const parsed = parseSignatureHeader(signatureHeader);
  if (typeof parsed === 'string') return invalid(`malformed Signature header: ${parsed}`);
  if (parsed.algorithm !== 'hmac-sha256') return invalid(`unsupported signature algorithm "${parsed.algorithm}" (expected hmac-sha256)`);
  const unsigned = REQUIRED_SIGNED_HEADERS.filter((name) => !parsed.headers.includes(name));
  if (unsigned.length > 0) return invalid(`signature does not cover the ${unsigned.join(' and ')} header`);

  const text = signingString(parsed.headers, request);
  if (typeof text !== 'string') return invalid(`missing ${headerLabel(text.missing)} header`);
  if (!safeEqual(parsed.signature, hmacSha256Base64(options.secret, text))) return invalid('signature does not match', SECRET_MISMATCH_HINT);

  // The signature vouches for the Digest and Date header values; now tie them to this body and this moment.
  const claimedDigest = sha256FromDigestHeader(request.header('digest') ?? '');
  if (claimedDigest === undefined) return invalid('Digest header has no SHA-256 value');
  if (!safeEqual(claimedDigest, sha256Base64(request.rawBody ?? Buffer.alloc(0)))) {
    return invalid('Digest does not match the request body');
  }

  const signedAt = Date.parse(request.header('date') ?? '');
  if (Number.isNaN(signedAt)) return invalid('Date header is not an HTTP date');
  const aheadMs = signedAt - (options.now ?? new Date()).getTime();
  if (Math.abs(aheadMs) > options.maxSkewSeconds * 1000) {
    return invalid(
      `Date is more than ${options.maxSkewSeconds} seconds away from the server clock`,
      `the Drone server's clock is ${Math.round(Math.abs(aheadMs) / 1000)} s ${aheadMs > 0 ? 'ahead of' : 'behind'} this one: ` +
        'set both clocks right (NTP), or raise DRONE_SIGNATURE_MAX_SKEW_SECONDS',
    );
  }
  return { valid: true };
}

function invalid(reason: string, hint?: string): DroneSignatureVerdict {
  return hint ? { valid: false, reason, hint } : { valid: false, reason };
}
