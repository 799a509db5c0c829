import { baseTestEnv } from '../support/app';
import { fatalLine as fatalOf, startHeraldProcess } from '../support/process';
import { freePort } from '../support/servers';
import { TokensFile } from './tokens-file';

jest.setTimeout(120_000);

describe('a wrong API_TOKENS_FILE', () => {
  it.each([
    ['is not YAML', 'tokens: [', (file: string) => [expect.stringMatching(new RegExp(`^API_TOKENS_FILE: ${file}: \\(root\\): not valid YAML`))]],
    [
      'lists no token and SYSTEM_TOKEN is not set',
      'tokens: []\n',
      (file: string) => [
        `API_TOKENS_FILE: ${file}: tokens: lists no token and SYSTEM_TOKEN is not set, so every endpoint would answer 401; add at least one token`,
      ],
    ],
  ])('that %s stops start-up with exit 78 naming the file, before MongoDB is waited for', async (_name, text, problems) => {
    const file = new TokensFile([]);
    file.writeRaw(text);
    const { SYSTEM_TOKEN: _system, ...env } = baseTestEnv();
    // Nothing listens on this port: had Herald waited for MongoDB first it would end with exit 1 naming MongoDB.
    const result = await startHeraldProcess({
      ...env,
      API_TOKENS_FILE: file.path,
      MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/herald`,
      MONGODB_STARTUP_TIMEOUT_MS: '3000',
    }).exited;
    expect(result.code).toBe(78);
    expect(fatalOf(result.stderr)?.problems).toEqual(problems(file.path));
    expect(result.stderr).not.toContain('MongoDB');
  });

  it('that cannot be read stops start-up with exit 78 naming it, MongoDB down or not', async () => {
    const result = await startHeraldProcess({
      ...baseTestEnv(),
      API_TOKENS_FILE: '/nonexistent/tokens.yaml',
      MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/herald`,
      MONGODB_STARTUP_TIMEOUT_MS: '3000',
    }).exited;
    expect(result.code).toBe(78);
    expect(fatalOf(result.stderr)?.problems).toEqual(['API_TOKENS_FILE: /nonexistent/tokens.yaml: cannot be read: ENOENT']);
  });
});
