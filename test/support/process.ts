import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

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
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
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
