import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { bootEveryEndpoint, type EveryEndpointWorld } from '../support/every-endpoint';

jest.setTimeout(180_000);

/** Every `$ref` string in the document, with where it sits. */
function refsOf(node: unknown, at = '#'): { at: string; ref: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => refsOf(item, `${at}/${index}`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [{ at, ref: value }] : refsOf(value, `${at}/${key}`),
  );
}

/**
 * @apidevtools/swagger-parser's validate(): the document against the OpenAPI schema, then every $ref dereferenced
 * (an unresolvable one fails). It runs in a plain Node process because its ref parser is an ES module that Jest's
 * CommonJS sandbox cannot require.
 */
function validateWithSwaggerParser(openApi: unknown): string {
  const script =
    "let input = ''; process.stdin.on('data', (chunk) => (input += chunk)).on('end', () => " +
    "require('@apidevtools/swagger-parser').validate(JSON.parse(input))" +
    ".then(() => console.log('valid'), (error) => console.log(error.message)));";
  const result = spawnSync(process.execPath, ['-e', script], { input: JSON.stringify(openApi), encoding: 'utf8', cwd: __dirname });
  return (result.stdout || result.stderr).trim();
}

describe('the OpenAPI document at /docs-json', () => {
  let world: EveryEndpointWorld;
  let document: { paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };

  beforeAll(async () => {
    world = await bootEveryEndpoint();
    document = (await request(world.herald.url).get('/docs-json').expect(200)).body;
  });

  afterAll(async () => {
    await world?.close();
  });

  it('covers every feature', () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/render/discord-message', '/metrics/image', '/notify', '/notify/{id}', '/drone/webhook', '/vk/deliveries']),
    );
  });

  it('has no reference that points nowhere', () => {
    const refs = refsOf(document);
    expect(refs.length).toBeGreaterThan(20);
    const dangling = refs.filter(({ ref }) => {
      const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
      return !name || !(name in document.components.schemas);
    });
    expect(dangling).toEqual([]);
  });

  // A property typed `string | null` (or any union) in TypeScript reaches the document as `type: object` unless its
  // decorator names the type: valid OpenAPI, but it tells clients the wrong shape, and a fuzzer then flags every real
  // answer (schemathesis did, for GET /notify/{id}'s messageId and sentAt, on 2026-11-30).
  it('types every property: an object without properties is only one that is free-form on purpose', () => {
    const freeForm = new Set(['DroneStageDoc.steps[]', 'VkDeliveryViewDto.event']);
    const shapeless: string[] = [];
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      for (const [property, raw] of Object.entries(schema.properties ?? {})) {
        const field = raw as { type?: string; properties?: unknown; additionalProperties?: unknown; allOf?: unknown; items?: typeof raw };
        const bare = (node: typeof field) => node.type === 'object' && !node.properties && !node.additionalProperties && !node.allOf;
        if (bare(field)) shapeless.push(`${name}.${property}`);
        if (field.type === 'array' && field.items && bare(field.items)) shapeless.push(`${name}.${property}[]`);
      }
    }
    expect(shapeless.filter((where) => !freeForm.has(where))).toEqual([]);
    expect(shapeless.filter((where) => freeForm.has(where)).sort()).toEqual([...freeForm].sort());
  });

  it('is a valid OpenAPI 3 document whose references all resolve', () => {
    expect(validateWithSwaggerParser(document)).toBe('valid');
  });

  it('documents the sent and the received embed under names of their own', () => {
    const { schemas } = document.components;
    // A bot may not set provider or proxy URLs; a received message carries them.
    expect(Object.keys(schemas.EmbedDto.properties ?? {})).not.toContain('provider');
    expect(Object.keys(schemas.ReceivedEmbedDto.properties ?? {})).toEqual(expect.arrayContaining(['provider', 'author', 'image']));
    expect(Object.keys(schemas.ReceivedEmbedMediaDto.properties ?? {})).toEqual(expect.arrayContaining(['url', 'proxy_url', 'width']));
    expect(Object.keys(schemas.EmbedMediaDto.properties ?? {})).toEqual(['url']);
  });
});
