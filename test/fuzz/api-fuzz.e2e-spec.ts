import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootEveryEndpoint, type EveryEndpointWorld } from '../support/every-endpoint';
import { ensureSchemathesis } from '../support/servers';

jest.setTimeout(420_000);

/**
 * The fuzz run: schemathesis reads the running app's /docs-json and sends each operation generated requests, valid
 * and invalid, with the system token. Every answer must be documented: no 5xx, a status code the operation lists,
 * a content type it lists, and a body matching its schema. Bounded: a fixed number of examples per operation, a
 * time budget for the whole run, and a fixed seed so a run that fails can be repeated.
 */
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance'];
const MAX_EXAMPLES = 12;
const MAX_SECONDS = 100;
const SEED = 20261128;

/** `schemathesis run <the document> …args`, with the document handed over as a file (see below). */
function runSchemathesis(document: unknown, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronously: Herald answers from this same process. In a directory of its own: schemathesis keeps a cache
    // (.schemathesis/) where it runs. The document is fetched here, not by schemathesis: its schema loader gives up
    // after 10 s, which a loaded machine can exceed while Herald builds the document.
    const cwd = mkdtempSync(join(tmpdir(), 'herald-fuzz-'));
    const schema = join(cwd, 'openapi.json');
    writeFileSync(schema, JSON.stringify(document));
    const child = spawn(ensureSchemathesis(), ['run', schema, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', COLUMNS: '160' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(cwd, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

/** Schemathesis's output with its `==== TITLE ====` rules turned into `schemathesis: TITLE` lines. */
function withoutRules(output: string): string {
  return output.replace(/^=+ (.*?) =+$/gm, 'schemathesis: $1');
}

describe('fuzzing the documented API', () => {
  let world: EveryEndpointWorld;

  beforeAll(async () => {
    ensureSchemathesis();
    world = await bootEveryEndpoint();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('answers every generated request as documented, never with a 5xx', async () => {
    const { herald } = world;
    const document = (await (await fetch(`${herald.url}/docs-json`)).json()) as unknown;
    const { code, output } = await runSchemathesis(document, [
      '--url',
      herald.url,
      '--header',
      `Authorization: Bearer ${herald.token}`,
      '--checks',
      CHECKS.join(','),
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      String(MAX_EXAMPLES),
      '--max-time',
      String(MAX_SECONDS),
      '--seed',
      String(SEED),
      '--workers',
      '1',
      '--request-timeout',
      '60',
      '--suppress-health-check',
      'all',
    ]);
    // The summary (operations, test cases, failures) is worth reading in the test log either way, without
    // schemathesis's pytest-style rules: CI reads a closing "=== 3 warnings in 100.13s ===" as a test runner
    // that ran no test, and judges the whole run by it.
    process.stdout.write(`${withoutRules(output)}\n`);
    expect(output).toMatch(/test cases/i);
    if (code !== 0) throw new Error(`schemathesis found answers that break the documented API:\n${output.slice(-20_000)}`);
  });
});
