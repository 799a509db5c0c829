import { startHeraldProcess as spawnHerald, type HeraldProcess as SpawnedHerald, type Exited } from './process';

/** `node dist/main.js` (see ./process) with what start-up and sharding tests read from it. */
export interface HeraldProcess extends Omit<SpawnedHerald, 'output'> {
  /** Everything printed so far, stdout then stderr. */
  output(): string;
  /** The lines printed so far, parsed: a line that is not JSON fails the test that reads it. */
  lines(): Array<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<Exited>;
}

export function startHeraldProcess(env: Record<string, string>): HeraldProcess {
  const spawned = spawnHerald(env);
  const output = (): string => {
    const { stdout, stderr } = spawned.output();
    return stdout + stderr;
  };
  return {
    child: spawned.child,
    exited: spawned.exited,
    output,
    lines: () =>
      output()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill(signal);
      return spawned.exited;
    },
  };
}
