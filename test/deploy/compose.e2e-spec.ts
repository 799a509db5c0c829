// docker-compose.yml checked without Docker: valid against the Compose specification's JSON schema (vendored from
// compose-spec/compose-spec, test/deploy/vendor/compose-spec.json), every image pinned, secrets required rather than
// defaulted, and the S3 service's own command, credentials and health check run against the S3 server the tests use.
import Ajv from 'ajv';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadConfig } from '../../src/config/config';
import { ObjectStorage } from '../../src/storage/object-storage';
import { eventually } from '../support/app';
import { countConnections, type ConnectionCounter } from '../support/connection-counter';
import { freePort } from '../support/servers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const servers = require('../../scripts/servers.cjs') as { ensureVersityGw(): string; VERSITYGW_VERSION: string };

const COMPOSE = path.resolve(__dirname, '../../docker-compose.yml');
const SCHEMA = JSON.parse(readFileSync(path.join(__dirname, 'vendor/compose-spec.json'), 'utf8')) as object;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const DRAFT_07 = require('ajv/dist/refs/json-schema-draft-07.json') as object;
const REQUIRED_SECRETS = ['SYSTEM_TOKEN', 'S3_SECRET_KEY', 'RABBITMQ_PASSWORD'];

type Service = {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  volumes?: string[];
  tmpfs?: string[];
  mem_limit?: string;
  env_file?: unknown;
};
type Compose = { services: Record<string, Service> };

/**
 * Compose's variable interpolation, applied as Compose applies it: to each string value of the parsed file.
 * ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$.
 */
function interpolate(document: unknown, env: Record<string, string>): { document: unknown; errors: string[] } {
  const errors: string[] = [];
  const text = (value: string) =>
    value.replace(/\$\$|\$\{(\w+)(?:(:?)([-?])([^}]*))?\}/g, (_whole, name: string | undefined, colon: string, op: string, arg: string) => {
      if (!name) return '$';
      const set = env[name];
      const missing = set === undefined || (colon === ':' && set === '');
      if (!op) return set ?? '';
      if (op === '-') return missing ? arg : set;
      if (missing) errors.push(`${name}: ${arg}`);
      return set ?? '';
    });
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    return value;
  };
  return { document: walk(document), errors };
}

describe('docker-compose.yml', () => {
  const raw = readFileSync(COMPOSE, 'utf8');
  const secrets = {
    SYSTEM_TOKEN: 'compose-system-token-0123456789',
    S3_SECRET_KEY: 'compose-s3-secret-0123456789',
    RABBITMQ_PASSWORD: 'compose-rabbit-secret',
  };
  const compose = interpolate(yaml.load(raw), secrets).document as Compose;
  // The schema names draft-07 by its https address; Ajv knows the same meta-schema under the http one.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  ajv.addMetaSchema({ ...DRAFT_07, $id: 'https://json-schema.org/draft-07/schema' });
  const validate = ajv.compile(SCHEMA);

  it('is valid against the Compose specification schema, as written and once interpolated', () => {
    for (const document of [yaml.load(raw), compose]) {
      const valid = validate(document);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    }
  });

  it('fails the schema on a misspelt key, so the check above can fail', () => {
    const broken = yaml.load(raw.replace('healthcheck:', 'healthchek:')) as object;
    expect(validate(broken)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/healthchek/);
  });

  it('pins every image to a version series, and runs the S3 server the tests run', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'herald') continue;
      expect({ name, image: service.image }).toEqual({ name, image: expect.stringMatching(/^[\w./-]+:v?\d+(\.\d+)*$/) });
    }
    expect(compose.services.s3.image).toBe(`versity/versitygw:${servers.VERSITYGW_VERSION}`);
    expect(compose.services.mongo.image).toMatch(/^mongo:7\./);
    expect(compose.services.rabbitmq.image).toMatch(/^rabbitmq:4(\.|$)/);
  });

  it('refuses to start without its secrets, naming each one, and has no default password anywhere', () => {
    const { errors } = interpolate(yaml.load(raw), {});
    expect([...new Set(errors.map((error) => error.split(':')[0]))].sort()).toEqual([...REQUIRED_SECRETS].sort());
    expect(raw).not.toMatch(/change-me/i);
    for (const name of REQUIRED_SECRETS) expect(raw).not.toMatch(new RegExp(`\\$\\{${name}(:?-|\\})`));
    expect(interpolate(yaml.load(raw), secrets).errors).toEqual([]);
  });

  it("gives Herald a configuration it accepts, wired to the other services' credentials", () => {
    const herald = compose.services.herald;
    const config = loadConfig(herald.environment!);
    expect(config.auth.systemToken).toBe(secrets.SYSTEM_TOKEN);
    expect(herald.environment!.AWS_ACCESS_KEY_ID).toBe(compose.services.s3.environment!.ROOT_ACCESS_KEY_ID);
    expect(herald.environment!.AWS_SECRET_ACCESS_KEY).toBe(compose.services.s3.environment!.ROOT_SECRET_ACCESS_KEY);
    expect(herald.environment!.AMQP_URL).toBe(
      `amqp://${compose.services.rabbitmq.environment!.RABBITMQ_DEFAULT_USER}:${secrets.RABBITMQ_PASSWORD}@rabbitmq:5672`,
    );
    expect(Object.keys(herald.depends_on!).sort()).toEqual(['mongo', 'rabbitmq', 's3']);
    for (const dependency of Object.values(herald.depends_on!)) expect(dependency.condition).toBe('service_healthy');
    expect(herald.read_only).toBe(true);
    expect(herald.tmpfs?.some((mount) => mount.startsWith('/tmp'))).toBe(true);
  });

  it('passes every setting of the .env it reads to Herald, so a setting the file names is never dropped on the way', () => {
    // As written, before interpolation: a value with ${…} comes from the shell or .env.
    const herald = (yaml.load(raw) as Compose).services.herald;
    expect(herald.env_file).toEqual([{ path: '.env', required: false }]);
    // Compose gives `environment` precedence over env_file: only the wiring to the other services is fixed there.
    const fixed = Object.entries(herald.environment!).filter(([, value]) => !/\$\{/.test(value));
    expect(Object.fromEntries(fixed)).toEqual({
      HOST: '0.0.0.0',
      PORT: '3000',
      MONGODB_URI: 'mongodb://mongo:27017/herald?replicaSet=rs0',
      S3_ENDPOINT: 'http://s3:7070',
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'herald',
      S3_FORCE_PATH_STYLE: 'true',
      S3_CREATE_BUCKET: 'true',
      AWS_ACCESS_KEY_ID: 'herald',
    });
  });

  it('gives Herald longer to stop than its own shutdown can take (2 × SHUTDOWN_TIMEOUT_MS + 1.5 s), so a clean stop is never SIGKILLed', () => {
    const grace = (yaml.load(raw) as { services: { herald: { stop_grace_period: string } } }).services.herald.stop_grace_period;
    const seconds = Number(/^(\d+)s$/.exec(grace)?.[1]);
    const shutdownMs = loadConfig(compose.services.herald.environment!).shutdownTimeoutMs;
    expect(seconds * 1000).toBeGreaterThan(2 * shutdownMs + 1500);
  });

  it("limits Herald's memory as the discord pod's limit does, so V8 sizes its heap the same way", () => {
    const manifests = yaml.loadAll(readFileSync(path.resolve(__dirname, '../../deploy/kubernetes/base/discord.yaml'), 'utf8')) as Array<{
      kind: string;
      spec: { template: { spec: { containers: Array<{ resources: { limits: { memory: string } } }> } } };
    }>;
    const bot = manifests.find((manifest) => manifest.kind === 'StatefulSet');
    const podLimit = bot!.spec.template.spec.containers[0].resources.limits.memory;
    expect(bytes(compose.services.herald.mem_limit ?? 'none')).toBe(bytes(podLimit));
  });

  it('checks each dependency with a command that can fail: Mongo only as a writable primary', () => {
    for (const name of ['mongo', 's3', 'rabbitmq']) expect(compose.services[name].healthcheck!.test[0]).toBe('CMD');
    const mongo = compose.services.mongo.healthcheck!.test.join(' ');
    expect(mongo).toMatch(/^CMD mongosh --quiet --eval /);
    expect(mongo).toContain('quit(db.hello().isWritablePrimary ? 0 : 1)');
  });

  it("runs the S3 service's command and credentials: Herald stores through it, its health check passes, then fails once it stops", async () => {
    const s3 = compose.services.s3;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-compose-s3-'));
    const port = await freePort();
    // The service's volumes become directories here; its listen address a free loopback port.
    const mounts = s3.volumes!.map((volume) => volume.split(':')[1]);
    for (const mount of mounts) mkdirSync(path.join(dir, mount));
    const container = (value: string) => (value === ':7070' ? `127.0.0.1:${port}` : mounts.includes(value) ? path.join(dir, value) : value);
    const child = spawn(servers.ensureVersityGw(), s3.command!.map(container), {
      env: { PATH: process.env.PATH ?? '', ...s3.environment },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const [command, ...args] = s3.healthcheck!.test.slice(1).map((arg) => arg.replace('127.0.0.1:7070', `127.0.0.1:${port}`));
    const healthcheck = () => spawnSync(command, args, { timeout: 5000 }).status;
    let relay: ConnectionCounter | undefined;
    try {
      await eventually(() => healthcheck() === 0, 30000, 200);
      relay = await countConnections(`http://127.0.0.1:${port}`);
      const storage = new ObjectStorage(loadConfig({ ...compose.services.herald.environment, S3_ENDPOINT: relay.url }));
      await storage.ensureBucket();
      await storage.put('compose/check.txt', Buffer.from('stored'), 'text/plain');
      expect((await storage.get('compose/check.txt'))?.toString()).toBe('stored');
      // The service keeps connections open: Herald's requests share one.
      expect(relay.connections).toBe(1);
      storage.onModuleDestroy();
      await relay.close();
      child.kill('SIGTERM');
      await exited;
      expect(healthcheck()).not.toBe(0);
    } finally {
      await relay?.close();
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A memory quantity as Compose (`1g`, `512m`) or Kubernetes (`1Gi`, `512Mi`) writes it, in bytes; both units are binary. */
function bytes(quantity: string): number {
  const match = /^(\d+)\s*(k|m|g|Ki|Mi|Gi)?b?$/i.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const power = { k: 1, m: 2, g: 3 }[(match[2] ?? '').charAt(0).toLowerCase() as 'k' | 'm' | 'g'] ?? 0;
  return Number(match[1]) * 1024 ** power;
}
