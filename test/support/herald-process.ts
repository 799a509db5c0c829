import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const MAIN = path.resolve(__dirname, '../../dist/main.js');

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node dist/main.js` as an operator starts it: only the given environment, output kept for the test to read. */
export interface HeraldProcess {
  child: ChildProcess;
  exited: Promise<Exited>;
  /** Everything printed so far. */
  output(): string;
  /** The JSON lines printed so far (a line that is not JSON fails the test that reads it). */
  lines(): Array<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<Exited>;
}

export function startHeraldProcess(env: Record<string, string>): HeraldProcess {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: `npm test` builds it first (or run `npm run build`)');
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<Exited>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    exited,
    output: () => stdout + stderr,
    lines: () =>
      (stdout + stderr)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
