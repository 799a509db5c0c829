import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { baseTestEnv, eventually } from './app';
import { freePort } from './servers';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/main.js');

/** Herald as its own Node process (`node dist/main.js`), as a second replica runs in production. */
export interface HeraldProcess {
  url: string;
  env: Record<string, string>;
  /** SIGTERM, and waits for the exit code. */
  stop(): Promise<number | null>;
  /** Lines it wrote, for a failing test's message. */
  output(): string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** `npm test` builds first; a single jest run builds here when dist/ is missing or older than src/. */
export function ensureBuilt(): void {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return;
  execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * Starts Herald as a separate process on a free port with the given environment (pass another instance's `env` to
 * share its database) and waits until it answers /health/live.
 */
export async function spawnHerald(env: Record<string, string>, options: { fresh?: boolean } = {}): Promise<HeraldProcess> {
  ensureBuilt();
  const port = await freePort();
  const fullEnv = { ...(options.fresh === false ? env : { ...baseTestEnv(), ...env }), PORT: String(port), HOST: '127.0.0.1' };
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`Herald process exited with ${child.exitCode}:\n${output}`);
      return (await fetch(`${url}/health/live`)).ok;
    }, 90_000, 200);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    env: fullEnv,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
