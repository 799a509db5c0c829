import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { baseTestEnv, eventually } from '../support/app';
import { freePort } from '../support/servers';
import { issue, TokensFile } from './tokens-file';

jest.setTimeout(420_000);

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (output.stdout += chunk));
  child.stderr.on('data', (chunk) => (output.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output, exited };
}

/** The test servers' environment without any token: what a developer has before choosing one. */
function serversOnly(): Record<string, string> {
  const { SYSTEM_TOKEN: _token, API_RATE_LIMITS: _limits, ...env } = baseTestEnv();
  return { ...env, BROWSER_POOL_SIZE: '1', LOG_LEVEL: 'info' };
}

const postMetrics = (url: string, token?: string) =>
  fetch(`${url}/metrics/image`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: '{}',
  }).then((response) => response.status);

const accessLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { req?: { url: string }; res?: { statusCode: number }; tokenName?: string | null; msg: string })
    .filter((line) => line.req?.url === '/metrics/image' && line.res);

describe('npm start', () => {
  it('listens on loopback only and generates a token, printed once, that works; the published one does not', async () => {
    const port = await freePort();
    // BACKEND_URL without BACKEND_TOKEN: the backend would get SYSTEM_TOKEN, which start-up warns about.
    const start = run(['scripts/run.mjs'], { ...serversOnly(), PORT: String(port), BACKEND_URL: 'http://127.0.0.1:9/callbacks' });
    try {
      const url = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${url}/health/ready`)).status === 200, 360_000, 500);
      const token = /generated one for this run[^\n]*\n\n {4}(\S+)\n/.exec(start.output.stderr)?.[1];
      expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(start.output.stderr).toContain(`Swagger: http://127.0.0.1:${port}/docs`);

      expect(await postMetrics(url, token)).toBe(400);
      expect(await postMetrics(url)).toBe(401);
      expect(await postMetrics(url, 'herald-dev-token')).toBe(401);
      // Bound to 127.0.0.1, not every interface: another loopback address is refused.
      await expect(fetch(`http://127.0.0.2:${port}/health/live`)).rejects.toThrow();

      start.child.kill('SIGTERM');
      expect((await start.exited).code).toBe(0);
      const all = start.output.stdout + start.output.stderr;
      expect(all.split(token!).length - 1).toBe(1);
      expect(start.output.stdout).toContain('BACKEND_TOKEN is the same as SYSTEM_TOKEN');
      expect(accessLines(start.output.stdout).map((line) => [line.res!.statusCode, line.tokenName])).toEqual([
        [400, 'system'],
        [401, null],
        [401, null],
      ]);
    } finally {
      start.child.kill('SIGKILL');
    }
  });
});

describe('node dist/main.js (production)', () => {
  it('refuses to start without any token, even where npm start would generate one', async () => {
    const main = run(['dist/main.js'], { ...serversOnly(), NODE_ENV: 'production' });
    expect((await main.exited).code).toBe(78);
    expect(main.output.stderr).toContain('SYSTEM_TOKEN: is required unless API_TOKENS_FILE is set');
  });

  it('refuses to start on an invalid tokens file, naming the file and the field', async () => {
    const file = new TokensFile([]);
    file.writeRaw('tokens:\n  - name: ci\n    sha256: 0123\n    scopes: [notify]\n');
    const main = run(['dist/main.js'], { ...serversOnly(), API_TOKENS_FILE: file.path });
    expect((await main.exited).code).toBe(78);
    expect(main.output.stderr).toContain(`API_TOKENS_FILE: ${file.path}: tokens.0.sha256: must be the 64 hex digits`);
  });

  it('runs on named tokens alone, logs the token name on each access line, and re-reads the file on SIGHUP', async () => {
    const old = issue('grafana', ['metrics']);
    const next = issue('grafana', ['metrics']);
    const file = new TokensFile([old]);
    const port = await freePort();
    // Polling is slowed to ten minutes so that only SIGHUP can explain the reload.
    const main = run(['dist/main.js'], {
      ...serversOnly(),
      API_TOKENS_FILE: file.path,
      API_TOKENS_POLL_INTERVAL_MS: '600000',
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${url}/health/ready`)).status === 200, 120_000, 500);
      expect(await postMetrics(url, old.token)).toBe(400);
      expect(await postMetrics(url, next.token)).toBe(401);

      file.write([next]);
      main.child.kill('SIGHUP');
      await eventually(async () => (await postMetrics(url, next.token)) === 400, 30_000, 200);
      expect(await postMetrics(url, old.token)).toBe(401);

      main.child.kill('SIGTERM');
      expect((await main.exited).code).toBe(0);
      const lines = accessLines(main.output.stdout);
      expect(lines[0]).toMatchObject({ res: { statusCode: 400 }, tokenName: 'grafana' });
      expect(lines.some((line) => line.res!.statusCode === 401 && line.tokenName === null)).toBe(true);
      expect(main.output.stdout).toContain('"msg":"API tokens reloaded"');
      for (const { token } of [old, next]) expect(main.output.stdout + main.output.stderr).not.toContain(token);
    } finally {
      main.child.kill('SIGKILL');
    }
  });
});
