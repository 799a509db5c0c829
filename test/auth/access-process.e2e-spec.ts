import { ChildProcess, ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { baseTestEnv, eventually } from '../support/app';
import { freePort, tcpOpen } from '../support/servers';
import { issue, TokensFile } from './tokens-file';

jest.setTimeout(420_000);

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Where npm start runs in these tests: a directory of its own, so a developer's `.env` in the checkout (which npm start
 * reads) changes nothing here.
 */
const ELSEWHERE = mkdtempSync(path.join(tmpdir(), 'herald-start-'));
const RUN_MJS = path.join(ROOT, 'scripts', 'run.mjs');

function run(args: string[], env: Record<string, string>, cwd = ROOT): Run {
  return collected(
    spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Runs a command with a pseudo-terminal as its stdin and output (util-linux `script`), in a process group of its own. */
function spawnInTerminal(command: string, env: Record<string, string>): Run {
  return collected(
    spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ELSEWHERE,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
}

/** What a child with piped output prints, and how it exits. */
function collected(child: ChildProcessByStdio<null, Readable, Readable>): Run {
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

interface LogLine {
  msg: string;
  pid?: number;
  chromiumPid?: number;
  req?: { url: string };
  res?: { statusCode: number };
  tokenName?: string | null;
}

const jsonLines = (stdout: string): LogLine[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

const accessLines = (stdout: string) => jsonLines(stdout).filter((line) => line.req?.url === '/metrics/image' && line.res);

describe('npm start', () => {
  it('listens on loopback only and generates a token, printed once, that works; the published one does not', async () => {
    const port = await freePort();
    // BACKEND_URL without BACKEND_TOKEN: the backend would get SYSTEM_TOKEN, which start-up warns about.
    const start = run([RUN_MJS], { ...serversOnly(), PORT: String(port), BACKEND_URL: 'http://127.0.0.1:9/callbacks' }, ELSEWHERE);
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
      // Herald's pid stays on every line: Chromium's has a name of its own (a second `pid` key would replace it).
      const chromium = jsonLines(start.output.stdout).find((line) => line.msg === 'Chromium started');
      expect(chromium).toEqual(expect.objectContaining({ chromiumPid: expect.any(Number), pid: expect.any(Number) }));
      expect(chromium!.chromiumPid).not.toBe(chromium!.pid);
      expect(accessLines(start.output.stdout).map((line) => [line.res!.statusCode, line.tokenName])).toEqual([
        [400, 'system'],
        [401, null],
        [401, null],
      ]);
    } finally {
      start.child.kill('SIGKILL');
    }
  });

  it('in a terminal, logs one readable line per entry instead of JSON lines', async () => {
    const port = await freePort();
    // `script` gives npm start a terminal as its output, as a developer's shell does; its own stdout is piped to us.
    const start = spawnInTerminal(`${process.execPath} ${RUN_MJS}`, { ...serversOnly(), PORT: String(port), SYSTEM_TOKEN: 'a'.repeat(32) });
    try {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 360_000, 500);
      await eventually(async () => start.output.stdout.includes('Listening on'), 10_000, 100);
      const lines = start.output.stdout.split(/\r?\n/).map((line) => stripVTControlCharacters(line));
      // The context leads the line; Nest's narration of its modules and routes (about fifty lines) is left to debug.
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: \\[Herald\\] Listening on 127\\.0\\.0\\.1:${port} `)),
      );
      expect(lines).toContainEqual(expect.stringMatching(/^\[[\d:.]+\] INFO: \[Herald\] Features on: render \(S3 is configured [^{]*$/));
      expect(lines.filter((line) => /dependencies initialized|Mapped \{|Nest application successfully started/.test(line))).toEqual([]);
      expect(lines).toContainEqual(
        expect.stringContaining('Logs: one readable line each, as the output is a terminal (LOG_PRETTY=false for JSON lines)'),
      );
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
      process.kill(-start.child.pid!, 'SIGTERM');
      expect((await start.exited).code).toBe(0);
    } finally {
      killGroup(start.child);
    }
  });

  it('reads a .env where it runs (the file docker compose reads), and a variable in the environment wins over it', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-dotenv-'));
    const token = 'token-from-the-dot-env-file-0123';
    writeFileSync(path.join(dir, '.env'), `# the compose secrets\nSYSTEM_TOKEN=${token}\nRABBITMQ_PASSWORD=secret\nLOG_LEVEL=warn\n`);
    const start = run([RUN_MJS], { ...serversOnly(), PORT: String(port), LOG_LEVEL: 'info' }, dir);
    try {
      const url = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${url}/health/ready`)).status === 200, 360_000, 500);
      expect(start.output.stderr).toContain(
        `Read ${path.join(dir, '.env')}: RABBITMQ_PASSWORD, SYSTEM_TOKEN (a variable in the environment wins over the file)`,
      );
      expect(start.output.stderr).not.toContain('generated one for this run');
      expect(start.output.stderr).not.toContain(token);
      expect(await postMetrics(url, token)).toBe(400);
      // LOG_LEVEL=info from the environment, not the file's warn: info lines are logged.
      await eventually(async () => start.output.stdout.includes('Listening on'), 10_000, 100);
      start.child.kill('SIGTERM');
      expect((await start.exited).code).toBe(0);
    } finally {
      killGroup(start.child);
    }
  });

  it('stops Herald and the servers it started when its terminal closes', async () => {
    const port = await freePort();
    // No MONGODB_URI or S3_ENDPOINT: npm start starts FerretDB and the S3 server itself, as on a fresh machine.
    const { MONGODB_URI: _mongo, S3_ENDPOINT: _s3, ...env } = serversOnly();
    const start = spawnInTerminal(`${process.execPath} ${RUN_MJS}`, { ...env, PORT: String(port), SYSTEM_TOKEN: 'a'.repeat(32) });
    try {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 360_000, 500);
      const text = stripVTControlCharacters(start.output.stdout);
      const ferretPort = Number(/started FerretDB at mongodb:\/\/127\.0\.0\.1:(\d+)/.exec(text)?.[1]);
      const s3Port = Number(/started versitygw \(S3\) at http:\/\/127\.0\.0\.1:(\d+)/.exec(text)?.[1]);
      expect([await tcpOpen(ferretPort), await tcpOpen(s3Port)]).toEqual([true, true]);
      // The terminal goes away (its window closed): the kernel hangs up on npm start and Herald.
      start.child.kill('SIGKILL');
      await eventually(async () => !(await tcpOpen(port)) && !(await tcpOpen(ferretPort)) && !(await tcpOpen(s3Port)), 60_000, 250);
    } finally {
      killGroup(start.child);
    }
  });
});

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
}

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

  it('refuses to start on a tokens file that lists no token when SYSTEM_TOKEN is not set', async () => {
    const file = new TokensFile([]);
    file.writeRaw('tokens: []\n');
    const main = run(['dist/main.js'], { ...serversOnly(), API_TOKENS_FILE: file.path });
    expect((await main.exited).code).toBe(78);
    expect(main.output.stderr).toContain(`API_TOKENS_FILE: ${file.path}: tokens: lists no token and SYSTEM_TOKEN is not set`);
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

      // Emptied by mistake: every endpoint would answer 401, so the tokens in force stay.
      file.writeRaw('tokens: []\n');
      main.child.kill('SIGHUP');
      await eventually(() => main.output.stdout.includes('API tokens file is invalid; the tokens in force are kept'), 30_000, 200);
      expect(main.output.stdout).toContain('tokens: lists no token and SYSTEM_TOKEN is not set');
      expect(await postMetrics(url, next.token)).toBe(400);

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
