import { createHmac } from 'node:crypto';
import { goJsonMarshal, signDroneDelivery } from '../../test/stand-ins/drone/drone-signer';
import { DroneSignedRequest, verifyDroneSignature } from './drone-signature';

/*
 * A vector computed outside this code base for a fixed body, secret and date:
 *  - by drone/drone's own sender code run against github.com/99designs/httpsignatures-go@v0.0.0-20170731043157-88528bf4ca7e
 *    (Go: `NewSigner(AlgorithmHmacSha256, "date", "digest").SignRequest("hmac-key", secret, req)`), and
 *  - by hand with openssl:
 *      printf '%s' "$BODY" | openssl dgst -sha256 -binary | base64
 *      printf 'date: %s\ndigest: SHA-256=%s' "$DATE" "$DIGEST" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
 * Both gave the strings below.
 */
const VECTOR = {
  body: '{"event":"build","action":"created","repo":{"id":42,"slug":"octocat/hello-world"},"build":{"id":1001,"number":7,"status":"pending"}}',
  secret: 'correct-horse-battery-staple',
  date: 'Tue, 14 May 2024 09:30:00 GMT',
  digest: 'SHA-256=LIcLLCUOxJFtlKu0cCg9h2KiozecsNkocpEVLUwzSUU=',
  signature: 'keyId="hmac-key",algorithm="hmac-sha256",signature="SFdTe6OfV521tXEcsAprIJq+edWzTREIzfmqsno5Yj8=",headers="date digest"',
};
const SIGNED_AT = new Date('2024-05-14T09:30:00Z');
const WINDOW = { secret: VECTOR.secret, maxSkewSeconds: 300 };

function request(headers: Record<string, string | undefined>, body: string | Buffer = VECTOR.body): DroneSignedRequest {
  const lower = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    method: 'POST',
    url: '/drone/webhook',
    header: (name) => lower.get(name.toLowerCase()),
    rawBody: Buffer.from(body),
  };
}

const vectorHeaders = { Date: VECTOR.date, Digest: VECTOR.digest, Signature: VECTOR.signature };

describe('verifyDroneSignature', () => {
  it('accepts the hand-computed Drone vector', () => {
    const verdict = verifyDroneSignature(request(vectorHeaders), { ...WINDOW, now: new Date(SIGNED_AT.getTime() + 42_000) });
    expect(verdict).toEqual({ valid: true });
  });

  it('agrees with the test signer, which produces the same headers as Drone for the same input', () => {
    const headers = signDroneDelivery(Buffer.from(VECTOR.body), { secret: VECTOR.secret, event: 'build', date: SIGNED_AT });
    expect(headers).toMatchObject(vectorHeaders);
    expect(headers['X-Drone-Event']).toBe('build');
  });

  it('verifies the bytes Go would send, not a re-serialisation of them', () => {
    const body = goJsonMarshal({ event: 'build', build: { message: 'fix <br> & "quotes"\u2028' } });
    expect(body.toString()).toContain('\\u003cbr\\u003e \\u0026');
    const headers = signDroneDelivery(body, { secret: VECTOR.secret, event: 'build', date: SIGNED_AT });
    expect(verifyDroneSignature(request(headers, body), { ...WINDOW, now: SIGNED_AT })).toEqual({ valid: true });
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(verifyDroneSignature(request(headers, reserialised), { ...WINDOW, now: SIGNED_AT })).toEqual({
      valid: false,
      reason: 'Digest does not match the request body',
    });
  });

  it('accepts a Date at the edge of the window on either side', () => {
    expect(verifyDroneSignature(request(vectorHeaders), { ...WINDOW, now: new Date(SIGNED_AT.getTime() + 300_000) }).valid).toBe(true);
    expect(verifyDroneSignature(request(vectorHeaders), { ...WINDOW, now: new Date(SIGNED_AT.getTime() - 300_000) }).valid).toBe(true);
  });

  it.each<[string, Record<string, string | undefined>, string, Date?]>([
    ['no Signature header', { ...vectorHeaders, Signature: undefined }, 'missing Signature header'],
    [
      'a Signature with no signature parameter',
      { ...vectorHeaders, Signature: 'keyId="hmac-key",algorithm="hmac-sha256",headers="date digest"' },
      'malformed Signature header: missing signature parameter',
    ],
    [
      'an unknown Signature parameter',
      { ...vectorHeaders, Signature: `${VECTOR.signature},extra="1"` },
      'malformed Signature header: unexpected parameter "extra"',
    ],
    [
      'hmac-sha1',
      { ...vectorHeaders, Signature: VECTOR.signature.replace('hmac-sha256', 'hmac-sha1') },
      'unsupported signature algorithm "hmac-sha1" (expected hmac-sha256)',
    ],
    [
      'a signature that does not cover the digest',
      { ...vectorHeaders, Signature: VECTOR.signature.replace('date digest', 'date') },
      'signature does not cover the digest header',
    ],
    ['no Date header', { ...vectorHeaders, Date: undefined }, 'missing Date header'],
    ['no Digest header', { ...vectorHeaders, Digest: undefined }, 'missing Digest header'],
    ['a Date other than the signed one', { ...vectorHeaders, Date: 'Tue, 14 May 2024 09:30:01 GMT' }, 'signature does not match'],
    ['a forged signature', { ...vectorHeaders, Signature: VECTOR.signature.replace('SFdTe6', 'SFdTe7') }, 'signature does not match'],
    ['a stale Date', vectorHeaders, 'Date is more than 300 seconds away from the server clock', new Date(SIGNED_AT.getTime() + 301_000)],
    ['a Date in the future', vectorHeaders, 'Date is more than 300 seconds away from the server clock', new Date(SIGNED_AT.getTime() - 301_000)],
  ])('rejects %s', (_case, headers, reason, now = SIGNED_AT) => {
    expect(verifyDroneSignature(request(headers), { ...WINDOW, now })).toMatchObject({ valid: false, reason });
  });

  it('rejects the right headers signed with another secret, with the setting to compare for the log', () => {
    expect(verifyDroneSignature(request(vectorHeaders), { ...WINDOW, secret: 'another-secret', now: SIGNED_AT })).toEqual({
      valid: false,
      reason: 'signature does not match',
      hint: 'is DRONE_WEBHOOK_SECRET the same value here and on the Drone server?',
    });
  });

  it("says for the log how far and which way the Drone server's clock is off", () => {
    expect(verifyDroneSignature(request(vectorHeaders), { ...WINDOW, now: new Date(SIGNED_AT.getTime() - 3_600_000) })).toEqual({
      valid: false,
      reason: 'Date is more than 300 seconds away from the server clock',
      hint: "the Drone server's clock is 3600 s ahead of this one: set both clocks right (NTP), or raise DRONE_SIGNATURE_MAX_SKEW_SECONDS",
    });
    expect(verifyDroneSignature(request(vectorHeaders), { ...WINDOW, now: new Date(SIGNED_AT.getTime() + 301_000) })).toMatchObject({
      hint: expect.stringMatching(/^the Drone server's clock is 301 s behind this one/),
    });
  });

  it('rejects a body changed after signing', () => {
    const verdict = verifyDroneSignature(request(vectorHeaders, VECTOR.body.replace('pending', 'success')), { ...WINDOW, now: SIGNED_AT });
    expect(verdict).toEqual({ valid: false, reason: 'Digest does not match the request body' });
  });

  it('rejects a signed Date that is not a date', () => {
    const date = 'yesterday';
    const digest = VECTOR.digest;
    const headers = signDroneDelivery(Buffer.from(VECTOR.body), { secret: VECTOR.secret, event: 'build', date: SIGNED_AT });
    const resigned: Record<string, string> = { ...headers, Date: date };
    // Re-sign over the bogus Date so only the date check can fail.
    const mac = createHmac('sha256', VECTOR.secret).update(`date: ${date}\ndigest: ${digest}`).digest('base64');
    resigned.Signature = VECTOR.signature.replace(/signature="[^"]*"/, `signature="${mac}"`);
    expect(verifyDroneSignature(request(resigned), { ...WINDOW, now: SIGNED_AT })).toEqual({
      valid: false,
      reason: 'Date header is not an HTTP date',
    });
  });
});
