/**
 * Stand-in for a Drone server's global webhook sender: builds the exact bytes and headers
 * drone/drone `plugin/webhook/webhook.go` sends, signed the way github.com/99designs/httpsignatures-go
 * (the version Drone pins, 88528bf4ca7e) signs. Written from those sources, not from Herald's verifier.
 */
import { createHash, createHmac } from 'node:crypto';

/** webhook.go: `signer.SignRequest("hmac-key", s.Secret, req)` — the key id is a constant. */
export const DRONE_KEY_ID = 'hmac-key';

/**
 * Go's encoding/json output for a value: like JSON.stringify, but HTML-safe escapes for <, > and &
 * and escaped U+2028/U+2029, so the signed bytes are the ones Drone would send.
 */
export function goJsonMarshal(value: unknown): Buffer {
  const json = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return Buffer.from(json, 'utf8');
}

/** Go's `time.Now().UTC().Format(http.TimeFormat)`: "Mon, 02 Jan 2006 15:04:05 GMT". */
export function goHttpDate(at: Date): string {
  return at.toUTCString();
}

export interface DroneSignOptions {
  secret: string;
  /** X-Drone-Event; Drone sends the payload's `event`. */
  event: string;
  date?: Date;
}

/** The headers of one Drone delivery, in the order webhook.go adds them. */
export function signDroneDelivery(body: Buffer, options: DroneSignOptions): Record<string, string> {
  const digest = 'SHA-256=' + createHash('sha256').update(body).digest('base64');
  const date = goHttpDate(options.date ?? new Date());
  // httpsignatures-go HeaderList.signingString: "<lower-case name>: <value>" joined with "\n".
  const signingString = `date: ${date}\ndigest: ${digest}`;
  const signature = createHmac('sha256', options.secret).update(signingString).digest('base64');
  return {
    'X-Drone-Event': options.event,
    'Content-Type': 'application/json',
    Digest: digest,
    Date: date,
    // Signature.String(): keyId, algorithm, signature, then headers — comma-separated, no spaces.
    Signature: `keyId="${DRONE_KEY_ID}",algorithm="hmac-sha256",signature="${signature}",headers="date digest"`,
  };
}

export interface DroneDelivery {
  body: Buffer;
  headers: Record<string, string>;
}

export interface DroneResponse {
  status: number;
  body: unknown;
}

/** Builds a delivery for a payload; `tamper` lets a test change body or headers after signing. */
export function droneDelivery(
  payload: { event: string },
  options: Omit<DroneSignOptions, 'event'>,
  tamper?: (delivery: DroneDelivery) => DroneDelivery,
): DroneDelivery {
  const body = goJsonMarshal(payload);
  const delivery = { body, headers: signDroneDelivery(body, { ...options, event: payload.event }) };
  return tamper ? tamper(delivery) : delivery;
}

/** POSTs a delivery like Drone's http.Client does and returns the status and parsed JSON body. */
export async function postDroneDelivery(url: string, delivery: DroneDelivery): Promise<DroneResponse> {
  const response = await fetch(url, { method: 'POST', headers: delivery.headers, body: new Uint8Array(delivery.body) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: response.status, body };
}
