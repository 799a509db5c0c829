import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { baseTestEnv, eventually } from './app';
import { freePort } from './servers';

export const MAIN = path.resolve(__dirname, '../../dist/main.js');

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

export interface HeraldProcess {
  child: ChildProcess;
  exited: Promise<Exited>;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
}

/** Runs `node dist/main.js` as an operator would, with only this environment (and PATH, HOME). */
export function startHeraldProcess(env: Record<string, string>): HeraldProcess {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: `npm test` builds it first (or run `npm run build`)');
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<Exited>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr, stdout })));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Chromium processes whose parent is `pid`: the browsers a Herald process launched. */
export function chromiumChildrenOf(pid: number): number[] {
  try {
    const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, ppid, comm]) => Number(ppid) === pid && /chrom/.test(comm ?? ''))
      .map(([childPid]) => Number(childPid));
  } catch {
    return [];
  }
}

/** A Herald replica as its own Node process, answering HTTP on a free port. */
export interface HeraldReplica {
  url: string;
  env: Record<string, string>;
  pid: number;
  /** SIGTERM, and waits for the exit code. */
  stop(): Promise<number | null>;
  /** Sends `signal` (SIGKILL: no shutdown hook runs, leases and claims stay held) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<Exited>;
}

/**
 * `npm test` builds first; a single jest run builds here only when dist/ is missing (run `npm run build` after editing
 * src/). Never rebuilt while the suite runs: `nest build` empties dist/ first, under the feet of the other specs'
 * Herald processes.
 */
export function ensureBuilt(): void {
  if (existsSync(MAIN)) return;
  execFileSync('npx', ['nest', 'build'], { cwd: path.resolve(__dirname, '../..'), stdio: 'inherit' });
}

/**
 * Starts Herald as a separate process on a free port with the given environment (pass another instance's `env` to
 * share its database: a second replica as production runs it) and waits until it answers /health/live.
 */
export async function spawnHerald(env: Record<string, string>, options: { fresh?: boolean } = {}): Promise<HeraldReplica> {
  ensureBuilt();
  const port = await freePort();
  const fullEnv = { ...(options.fresh === false ? env : { ...baseTestEnv(), ...env }), PORT: String(port), HOST: '127.0.0.1' };
  const herald = startHeraldProcess(fullEnv);
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => {
        if (herald.child.exitCode !== null) throw new Error(`Herald process exited with ${herald.child.exitCode}:\n${herald.output().stderr}`);
        return (await fetch(`${url}/health/live`)).ok;
      },
      90_000,
      200,
    );
  } catch (error) {
    herald.child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    env: fullEnv,
    pid: herald.child.pid ?? 0,
    stop: async () => {
      if (herald.child.exitCode === null) herald.child.kill('SIGTERM');
      return (await herald.exited).code;
    },
    kill: async (signal) => {
      if (herald.child.exitCode === null && herald.child.signalCode === null) herald.child.kill(signal);
      return herald.exited;
    },
  };
}

/** The one fatal line (pino's level 60) a failed start ends with, from a process's stderr. */
export function fatalLine(stderr: string): { level: number; msg: string; problems?: string[] } | undefined {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; problems?: string[] })
    .find((line) => line.level === 60);
}
