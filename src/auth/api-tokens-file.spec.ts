import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiTokensFileError, parseApiTokensFile, readApiTokensFile } from './api-tokens-file';

const sha = (token: string) => createHash('sha256').update(token).digest('hex');

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiTokensFileError) return error.problems;
    throw error;
  }
  throw new Error('expected an ApiTokensFileError');
}

describe('parseApiTokensFile', () => {
  it('reads YAML entries with their scopes, hashes lowercased, several entries per client', () => {
    const entries = parseApiTokensFile(
      `
tokens:
  - name: ci-notify
    sha256: ${sha('old').toUpperCase()}
    scopes: [notify]
    note: issued 2026-01
  - name: ci-notify
    sha256: ${sha('new')}
    scopes: [notify, read]
`,
      'tokens.yaml',
    );
    expect(entries).toEqual([
      { name: 'ci-notify', sha256: sha('old'), scopes: new Set(['notify']) },
      { name: 'ci-notify', sha256: sha('new'), scopes: new Set(['notify', 'read']) },
    ]);
  });

  it('reads JSON by the file extension', () => {
    const entries = parseApiTokensFile(
      JSON.stringify({ tokens: [{ name: 'grafana', sha256: sha('g'), scopes: ['metrics'] }] }),
      '/etc/herald/tokens.json',
    );
    expect(entries.map((entry) => entry.name)).toEqual(['grafana']);
  });

  it('accepts an empty list (every named token revoked)', () => {
    expect(parseApiTokensFile('tokens: []', 't.yaml')).toEqual([]);
  });

  it('names the file and the field of every problem', () => {
    const problems = problemsOf(() =>
      parseApiTokensFile(
        `
tokens:
  - name: ok
    sha256: ${sha('a')}
    scopes: [notify, admin]
  - name: "bad name"
    sha256: abc
    scopes: []
  - sha256: ${sha('b')}
    scope: [read]
`,
        'secrets/tokens.yaml',
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^secrets\/tokens\.yaml: tokens\.0\.scopes\.1: must be one of notify, render, metrics, drone-admin, vk-admin, outbox-admin, read$/,
        ),
        expect.stringMatching(/^secrets\/tokens\.yaml: tokens\.1\.name: must be 1-64 letters/),
        expect.stringMatching(/^secrets\/tokens\.yaml: tokens\.1\.sha256: must be the 64 hex digits/),
        expect.stringMatching(/^secrets\/tokens\.yaml: tokens\.1\.scopes: must name at least one scope$/),
        expect.stringMatching(/^secrets\/tokens\.yaml: tokens\.2\.name: is required/),
        expect.stringMatching(/^secrets\/tokens\.yaml: tokens\.2: Unrecognized key: "scope"/),
      ]),
    );
  });

  it('says a hash that YAML read as a number is not a hash, rather than missing', () => {
    expect(problemsOf(() => parseApiTokensFile('tokens:\n  - { name: ci, sha256: 0123, scopes: [notify] }\n', 't.yaml'))).toEqual([
      expect.stringMatching(/^t\.yaml: tokens\.0\.sha256: must be the 64 hex digits of the SHA-256 of the token .*, as a string$/),
    ]);
  });

  it('refuses the same token in two entries and the reserved name "system"', () => {
    expect(
      problemsOf(() =>
        parseApiTokensFile(
          JSON.stringify({
            tokens: [
              { name: 'a', sha256: sha('x'), scopes: ['read'] },
              { name: 'b', sha256: sha('x').toUpperCase(), scopes: ['notify'] },
              { name: 'system', sha256: sha('y'), scopes: ['read'] },
            ],
          }),
          't.json',
        ),
      ),
    ).toEqual([expect.stringMatching(/^t\.json: tokens\.2\.name: "system" is reserved for SYSTEM_TOKEN$/)]);
    expect(
      problemsOf(() =>
        parseApiTokensFile(
          JSON.stringify({
            tokens: [
              { name: 'a', sha256: sha('x'), scopes: ['read'] },
              { name: 'b', sha256: sha('x'), scopes: ['notify'] },
            ],
          }),
          't.json',
        ),
      ),
    ).toEqual(['t.json: tokens.1.sha256: the same token as tokens.0 (each token belongs to one entry)']);
  });

  it('refuses a file that is not YAML/JSON or has no tokens list, naming the file', () => {
    expect(problemsOf(() => parseApiTokensFile('{ "tokens": [', 't.json'))).toEqual([expect.stringMatching(/^t\.json: \(root\): not valid JSON/)]);
    expect(problemsOf(() => parseApiTokensFile('tokens: [a, b', 't.yml'))).toEqual([expect.stringMatching(/^t\.yml: \(root\): not valid YAML/)]);
    expect(problemsOf(() => parseApiTokensFile('', 't.yaml'))).toEqual([expect.stringMatching(/^t\.yaml: \(root\): not valid YAML: .*empty/)]);
    expect(problemsOf(() => parseApiTokensFile('{}', 't.json'))).toEqual([expect.stringMatching(/^t\.json: tokens: must be a list of tokens$/)]);
    expect(problemsOf(() => parseApiTokensFile('tokens: {}', 't.yaml'))).toEqual([
      expect.stringMatching(/^t\.yaml: tokens: must be a list of tokens$/),
    ]);
  });

  it('names a file that cannot be read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-tokens-'));
    expect(problemsOf(() => readApiTokensFile(path.join(dir, 'missing.yaml')))).toEqual([
      `${path.join(dir, 'missing.yaml')}: cannot be read: ENOENT`,
    ]);
    const file = path.join(dir, 'tokens.yaml');
    writeFileSync(file, `tokens:\n  - { name: ci, sha256: ${sha('t')}, scopes: [render] }\n`);
    expect(readApiTokensFile(file)).toEqual([{ name: 'ci', sha256: sha('t'), scopes: new Set(['render']) }]);
  });
});
