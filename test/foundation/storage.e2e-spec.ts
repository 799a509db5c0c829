import { ObjectStorage, StorageAccessError } from '../../src/storage/object-storage';
import { loadConfig } from '../../src/config/config';
import { baseTestEnv } from '../support/app';
import { countConnections } from '../support/connection-counter';
import { makeBucketPublic, publicBaseOf } from '../support/public-bucket';

describe('ObjectStorage against a real S3 server (versitygw)', () => {
  const env = baseTestEnv();
  const storage = new ObjectStorage(loadConfig(env));

  beforeAll(() => storage.ensureBucket());
  afterAll(() => storage.onModuleDestroy());

  it('puts, finds, reads back and deletes an object, naming it by its URN', async () => {
    const body = Buffer.from('\x89PNG fake but real bytes');
    const stored = await storage.put('tests/a b/ünïcode.png', body, 'image/png');
    expect(stored).toEqual({
      urn: `s3://${env.S3_BUCKET}/tests/a b/ünïcode.png`,
      key: 'tests/a b/ünïcode.png',
      bytes: body.length,
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) as string,
    });
    expect(await storage.exists('tests/a b/ünïcode.png')).toBe(true);
    expect(await storage.size('tests/a b/ünïcode.png')).toBe(body.length);
    expect(await storage.get('tests/a b/ünïcode.png')).toEqual(body);
    await storage.delete('tests/a b/ünïcode.png');
    expect(await storage.exists('tests/a b/ünïcode.png')).toBe(false);
    expect(await storage.size('tests/a b/ünïcode.png')).toBeNull();
    expect(await storage.get('tests/a b/ünïcode.png')).toBeNull();
  });

  it('stores the content type it was given', async () => {
    await storage.put('tests/type.json', Buffer.from('{}'), 'application/json');
    const url = await storage.presign('tests/type.json', 60);
    const response = await fetch(url);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe('{}');
  });

  it('answers a public URL under S3_PUBLIC_URL that fetches the object without credentials, and none without it', async () => {
    expect(storage.publicUrl('tests/x.png')).toBeUndefined();
    const publicStorage = new ObjectStorage(loadConfig({ ...env, S3_PUBLIC_URL: `${publicBaseOf(env.S3_BUCKET)}/` }));
    await makeBucketPublic(env.S3_BUCKET);
    const body = Buffer.from('public bytes');
    const stored = await publicStorage.put('tests/a b/ünïcode #1.png', body, 'image/png');
    expect(stored.url).toBe(`${publicBaseOf(env.S3_BUCKET)}/tests/a%20b/%C3%BCn%C3%AFcode%20%231.png`);
    const response = await fetch(stored.url!);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(body);
    publicStorage.onModuleDestroy();
  });

  it('keeps one connection to the S3 server open across requests instead of opening one per request', async () => {
    const relay = await countConnections(env.S3_ENDPOINT);
    const relayed = new ObjectStorage(loadConfig({ ...env, S3_ENDPOINT: relay.url }));
    try {
      for (let i = 0; i < 5; i++) await relayed.put(`tests/keep-alive/${i}.png`, Buffer.from(`image ${i}`), 'image/png');
      expect((await relayed.get('tests/keep-alive/4.png'))?.toString()).toBe('image 4');
      await relayed.delete('tests/keep-alive/0.png');
      expect(relay.connections).toBe(1);
    } finally {
      relayed.onModuleDestroy();
      await relay.close();
    }
  });

  it('says which credentials to check when they are wrong', async () => {
    const wrong = new ObjectStorage(loadConfig({ ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
    const failure = await wrong.put('tests/x.png', Buffer.from('x'), 'image/png').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageAccessError);
    expect((failure as Error).message).toMatch(/AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
    await expect(wrong.ping()).rejects.toThrow(/refused/);
    wrong.onModuleDestroy();
  });
});
