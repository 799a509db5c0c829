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

type SchemaNode = {
  $ref?: string;
  example?: unknown;
  default?: unknown;
  enum?: unknown[];
  type?: string;
  format?: string;
  minimum?: number;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  allOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
};
type JsonMedia = { schema?: SchemaNode; example?: unknown; examples?: Record<string, { value: unknown }> };
type Operation = { requestBody?: { content: Record<string, JsonMedia> } };

/**
 * The bodies Swagger UI's "Try it out" offers, by name: each of the body's `examples` (the first is filled in), else
 * its `example`, else one built from the schema, each property's `example` (or default, first enum value, "string",
 * 0, true).
 */
function tryItOutBodies(media: JsonMedia, schemas: Record<string, SchemaNode>): [string, unknown][] {
  if (media.examples) return Object.entries(media.examples).map(([name, example]) => [name, example.value]);
  if (media.example !== undefined) return [['example', media.example]];
  const build = (node: SchemaNode | undefined, depth: number): unknown => {
    let schema = node ?? {};
    while (schema.$ref) schema = schemas[schema.$ref.split('/').pop()!] ?? {};
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.enum?.length) return schema.enum[0];
    const composed = schema.allOf ?? schema.oneOf ?? schema.anyOf;
    if (composed?.length) return build(composed[0], depth + 1);
    if (schema.type === 'array') return [build(schema.items, depth + 1)];
    if (schema.type === 'object' || schema.properties) {
      if (depth > 8) return {};
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, build(property, depth + 1)]));
    }
    if (schema.type === 'string')
      return schema.format === 'date-time' ? new Date().toISOString() : schema.format === 'uri' ? 'https://example.com/' : 'string';
    if (schema.type === 'integer' || schema.type === 'number') return schema.minimum ?? 0;
    if (schema.type === 'boolean') return true;
    return null;
  };
  return [['from the schema', build(media.schema, 0)]];
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

  it('accepts the body Swagger\'s "Try it out" sends for every endpoint that takes one', async () => {
    const paths = document.paths as Record<string, Record<string, Operation>>;
    const schemas = document.components.schemas as Record<string, SchemaNode>;
    const answers: { operation: string; example: string; status: number; message?: unknown }[] = [];
    let notificationId: string | undefined;
    // POST before PATCH, so the edit has a notification to edit.
    const operations = Object.entries(paths)
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })))
      .filter(({ operation }) => operation.requestBody?.content['application/json'])
      .sort((a, b) => (a.method === 'patch' ? 1 : 0) - (b.method === 'patch' ? 1 : 0));
    for (const { path, method, operation } of operations) {
      for (const [name, body] of tryItOutBodies(operation.requestBody!.content['application/json'], schemas)) {
        const response = await request(world.herald.url)
          [method as 'post' | 'patch'](path.replace('{id}', notificationId ?? 'none'))
          .set('Authorization', `Bearer ${world.herald.token}`)
          .send(body as object);
        if (path === '/notify' && method === 'post') notificationId = response.body.id;
        const answer = `${method.toUpperCase()} ${path}`;
        answers.push({
          operation: answer,
          example: name,
          status: response.status,
          message: response.status >= 300 ? response.body.message : undefined,
        });
      }
    }
    expect(answers.map(({ operation }) => operation)).toEqual(
      expect.arrayContaining(['POST /notify', 'PATCH /notify/{id}', 'POST /render/discord-message', 'POST /metrics/image']),
    );
    // Drone's webhook takes only what Drone signs: "Try it out" cannot sign, and is told so. The dashboard examples
    // need METRICS_DASHBOARDS_FILE, which this Herald lacks, and say so.
    const noDashboards =
      'Validation failed: dashboard: no dashboards are configured (METRICS_DASHBOARDS_FILE); send "charts" to draw charts from numbers';
    expect(answers.filter(({ status }) => status >= 300)).toEqual([
      { operation: 'POST /drone/webhook', example: 'from the schema', status: 401, message: 'missing Signature header' },
      { operation: 'POST /metrics/image', example: 'a configured dashboard', status: 400, message: noDashboards },
      { operation: 'POST /metrics/image', example: 'the first configured dashboard', status: 400, message: noDashboards },
    ]);
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
