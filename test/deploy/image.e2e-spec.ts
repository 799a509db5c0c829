// The image proven without Docker: replays the Dockerfile on this Debian machine. The build stage's commands run in a
// temporary directory; the runtime layout gets only what the runtime stage copies; then the ENTRYPOINT + CMD boot in a
// PID namespace of their own (tini is PID 1) as the numeric USER, with the file's ENV, a fresh writable /tmp and a
// root-owned /app, against the suite's real FerretDB and S3 server. The steps come from the Dockerfile itself: an
// instruction this replay cannot follow fails the test rather than being skipped.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { METRICS_IMAGE_EXAMPLE } from '../../src/metrics/metrics-image.dto';
import { baseTestEnv, eventually } from '../support/app';
import { freePort } from '../support/servers';
import { copyOf, envOf, execForm, parseDockerfile, type Stage } from './dockerfile';

const ROOT = path.resolve(__dirname, '../..');
// The PATH of the node base image.
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Layout {
  dir: string;
  build: string;
  rootfs: string;
  app: string;
  tmp: string;
  env: Record<string, string>;
  user: { uid: number; gid: number };
  command: string[];
  healthcheck: { command: string[]; timeoutMs: number };
  log: string;
}

/** Whether .dockerignore keeps a path out of the build context (its plain names, as Herald's file uses). */
function dockerignored(source: string): boolean {
  const patterns = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const first = source.replace(/^\.\//, '').split('/')[0];
  return patterns.some((pattern) => pattern === first || (pattern.startsWith('*') && first.endsWith(pattern.slice(1))));
}

function runStage(stage: Stage, dir: string, env: NodeJS.ProcessEnv, log: number): void {
  const workdir = dir;
  for (const { keyword, args, line } of stage.instructions) {
    if (keyword === 'WORKDIR') {
      if (args !== '/app') throw new Error(`line ${line}: the replay maps only WORKDIR /app`);
      mkdirSync(workdir, { recursive: true });
    } else if (keyword === 'COPY') {
      const copy = copyOf(args);
      if (copy.from) throw new Error(`line ${line}: the build stage copies from no other stage`);
      for (const source of copy.sources) {
        expect({ source, ignored: dockerignored(source) }).toEqual({ source, ignored: false });
        const target = copy.dest.endsWith('/') ? path.join(workdir, copy.dest, path.basename(source)) : path.join(workdir, copy.dest);
        cpSync(path.join(ROOT, source), target, { recursive: true });
      }
    } else if (keyword === 'RUN') {
      execFileSync('sh', ['-ec', args], { cwd: workdir, env, stdio: ['ignore', log, log] });
    } else if (keyword === 'ENV') {
      Object.assign(env, envOf(args));
    } else {
      throw new Error(`line ${line}: the replay cannot follow ${keyword} in the build stage`);
    }
  }
}

function replay(): Layout {
  const file = parseDockerfile(path.join(ROOT, 'Dockerfile'));
  const [buildStage, runtimeStage] = file.stages;
  expect(file.stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
  // The tests run on the Node the image runs.
  expect(buildStage.base).toBe(`node:${file.globalArgs.NODE_VERSION}-bookworm-slim`);
  expect(runtimeStage.base).toBe(buildStage.base);
  expect(process.version).toBe(`v${file.globalArgs.NODE_VERSION}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-image-'));
  chmodSync(dir, 0o755);
  const logPath = path.join(dir, 'replay.log');
  const log = openSync(logPath, 'a');
  const build = path.join(dir, 'build');
  const nodeDir = path.dirname(process.execPath);
  runStage(buildStage, build, { PATH: `${nodeDir}:${IMAGE_PATH}`, HOME: process.env.HOME ?? os.homedir() }, log);

  // The runtime stage: the base image's node, then only what the Dockerfile copies.
  const rootfs = path.join(dir, 'rootfs');
  const app = path.join(rootfs, 'app');
  const tmp = path.join(rootfs, 'tmp');
  mkdirSync(path.join(rootfs, 'usr/local/bin'), { recursive: true });
  copyFileSync(process.execPath, path.join(rootfs, 'usr/local/bin/node'));
  chmodSync(path.join(rootfs, 'usr/local/bin/node'), 0o755);
  const env: Record<string, string> = { PATH: `${rootfs}/usr/local/bin:${IMAGE_PATH}` };
  let user: Layout['user'] | undefined;
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let healthcheck: Layout['healthcheck'] | undefined;
  for (const { keyword, args, line } of runtimeStage.instructions) {
    if (keyword === 'RUN') {
      const install = /^apt-get update && apt-get install -y --no-install-recommends ([a-z0-9.+\- ]+?) && rm -rf \/var\/lib\/apt\/lists\/\*$/.exec(
        args.replace(/\s+/g, ' '),
      );
      if (!install) throw new Error(`line ${line}: the runtime stage may only apt-get install (the replay checks the packages are here): ${args}`);
      for (const name of install[1].split(' ')) {
        const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout;
        expect({ name, installed: status.includes('install ok installed') }).toEqual({ name, installed: true });
      }
    } else if (keyword === 'WORKDIR') {
      if (args !== '/app') throw new Error(`line ${line}: the replay maps only WORKDIR /app`);
      mkdirSync(app, { recursive: true });
    } else if (keyword === 'ENV') {
      Object.assign(env, envOf(args));
    } else if (keyword === 'COPY') {
      const copy = copyOf(args);
      expect(copy.chown).toBeUndefined(); // the files stay root's
      for (const source of copy.sources) {
        if (!copy.from) expect({ source, ignored: dockerignored(source) }).toEqual({ source, ignored: false });
        const from = copy.from
          ? copy.from === 'build' && source.startsWith('/app/')
            ? path.join(build, source.slice('/app/'.length))
            : undefined
          : path.join(ROOT, source);
        if (!from) throw new Error(`line ${line}: the replay copies only /app/... from the build stage`);
        const target = copy.dest.endsWith('/') ? path.join(app, copy.dest, path.basename(source)) : path.join(app, copy.dest);
        cpSync(from, target, { recursive: true });
      }
    } else if (keyword === 'USER') {
      const match = /^(\d+):(\d+)$/.exec(args);
      if (!match) throw new Error(`line ${line}: USER must be numeric uid:gid (runAsNonRoot), got ${args}`);
      user = { uid: Number(match[1]), gid: Number(match[2]) };
    } else if (keyword === 'HEALTHCHECK') {
      const match = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(args);
      if (!match) throw new Error(`line ${line}: HEALTHCHECK must use CMD in exec form`);
      const timeout = /--timeout=(\d+)s/.exec(match[1]);
      healthcheck = { command: execForm(match[2]), timeoutMs: (timeout ? Number(timeout[1]) : 30) * 1000 };
    } else if (keyword === 'ENTRYPOINT') {
      entrypoint = execForm(args);
    } else if (keyword === 'CMD') {
      cmd = execForm(args);
    } else if (keyword !== 'EXPOSE') {
      throw new Error(`line ${line}: the replay cannot follow ${keyword} in the runtime stage`);
    }
  }
  if (!user || !healthcheck) throw new Error('the runtime stage needs USER and HEALTHCHECK');
  // An emptyDir at /tmp; HOME (and so Chromium's profile) points there.
  mkdirSync(tmp, { mode: 0o1777 });
  chmodSync(tmp, 0o1777);
  if (env.HOME === '/tmp') env.HOME = tmp;
  env.TMPDIR = tmp;
  return { dir, build, rootfs, app, tmp, env, user, command: [...entrypoint, ...cmd], healthcheck, log: logPath };
}

/** Every file under a directory with its size and mtime: proves nothing in /app was written at run time. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const stat = statSync(full);
        out.push(`${path.relative(dir, full)} ${stat.size} ${stat.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

interface ProcInfo {
  pid: number;
  ppid: number;
  name: string;
  uid: number;
  nspid: number[];
}

function proc(pid: number): ProcInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    return {
      pid,
      ppid: Number(field('PPid')),
      name: field('Name'),
      uid: Number(field('Uid').split(/\s+/)[0]),
      nspid: field('NSpid').split(/\s+/).map(Number),
    };
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): ProcInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => proc(Number(name)))
    .filter((info): info is ProcInfo => info?.ppid === pid);
}

describe('the Dockerfile, replayed without Docker', () => {
  let layout: Layout;
  let port: number;
  let herald: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let appBefore: string[];

  const asImageUser = (command: string[]) => [
    'setpriv',
    `--reuid=${layout.user.uid}`,
    `--regid=${layout.user.gid}`,
    '--clear-groups',
    '--',
    ...command,
  ];
  const healthcheck = () =>
    spawnSync(asImageUser(layout.healthcheck.command)[0], asImageUser(layout.healthcheck.command).slice(1), {
      cwd: layout.app,
      env: { ...layout.env, PORT: String(port) },
      timeout: layout.healthcheck.timeoutMs,
    }).status;

  beforeAll(
    async () => {
      layout = replay();
      appBefore = snapshot(layout.app);
      port = await freePort();
      const test = baseTestEnv();
      // What an operator sets (compose's environment:, a Kubernetes ConfigMap and Secret); everything else is the image's.
      const env = {
        ...layout.env,
        ...Object.fromEntries(
          [
            'MONGODB_URI',
            'S3_ENDPOINT',
            'S3_REGION',
            'S3_BUCKET',
            'S3_FORCE_PATH_STYLE',
            'S3_CREATE_BUCKET',
            'AWS_ACCESS_KEY_ID',
            'AWS_SECRET_ACCESS_KEY',
            'SYSTEM_TOKEN',
          ].map((name) => [name, test[name]]),
        ),
        PORT: String(port),
        HOST: '127.0.0.1',
        // The test machine is shared and loaded; a render cut off at the default 15 s would answer 503.
        RENDER_TIMEOUT_MS: '60000',
      };
      const out = openSync(path.join(layout.dir, 'herald.log'), 'a');
      // unshare gives tini a PID namespace of its own, where it is PID 1 as in a container.
      herald = spawn('unshare', ['--pid', '--fork', '--kill-child', '--', ...asImageUser(layout.command)], {
        cwd: layout.app,
        env,
        stdio: ['ignore', out, out],
      });
      exited = new Promise((resolve) => herald.once('exit', (code, signal) => resolve({ code, signal })));
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200, 180000, 500);
    },
    20 * 60 * 1000,
  );

  afterAll(() => {
    if (herald && herald.exitCode === null) herald.kill('SIGKILL');
    if (layout) rmSync(layout.dir, { recursive: true, force: true });
  });

  it('copies only what runs: no templates/, no build-only packages, no compiler', () => {
    expect(readdirSync(layout.app).sort()).toEqual(['dist', 'node_modules', 'package.json', 'static']);
    for (const name of ['echarts', 'zrender', 'highlight.js', '@fontsource/inter', 'typescript', '@nestjs/cli', 'jest']) {
      expect({ name, present: existsSync(path.join(layout.app, 'node_modules', name)) }).toEqual({ name, present: false });
    }
    expect(existsSync(path.join(layout.app, 'node_modules', 'playwright'))).toBe(true);
  });

  it('runs Herald under tini as PID 1, as the numeric user, not root', () => {
    const [unshareChild] = childrenOf(herald.pid!);
    expect(unshareChild).toMatchObject({ name: 'tini', uid: layout.user.uid });
    expect(unshareChild.nspid[unshareChild.nspid.length - 1]).toBe(1);
    const [node] = childrenOf(unshareChild.pid);
    expect(node).toMatchObject({ name: expect.stringMatching(/^(node|MainThread)$/), uid: layout.user.uid });
  });

  it('answers /health/ready, renders a Discord message and draws a chart', async () => {
    const token = baseTestEnv().SYSTEM_TOKEN;
    const render = await fetch(`http://127.0.0.1:${port}/render/discord-message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ author: { name: 'Herald' }, content: 'Deployed **without** Docker', timestamp: '2026-11-28T12:00:00.000Z' }),
    });
    expect({ status: render.status, type: render.headers.get('content-type') }).toEqual({ status: 200, type: expect.stringMatching(/^image\/png/) });
    expect(Buffer.from(await render.arrayBuffer()).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    const chart = await fetch(`http://127.0.0.1:${port}/metrics/image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(METRICS_IMAGE_EXAMPLE),
    });
    const answer = (await chart.json()) as { images?: { key: string; width: number }[] };
    // (fetch parses JSON outside Jest's sandbox, so its arrays are not the sandbox's Array: count them instead.)
    const drawn = Array.isArray(answer.images) ? answer.images.filter((image) => image.width > 0).length : answer;
    expect({ status: chart.status, drawn }).toEqual({ status: 200, drawn: METRICS_IMAGE_EXAMPLE.charts.length });

    // What the pod's memory request is sized from: proportional set size of Herald and its Chromium, after renders.
    const [tini] = childrenOf(herald.pid!);
    const tree = (pid: number): number[] => [pid, ...childrenOf(pid).flatMap((child) => tree(child.pid))];
    // A Chromium helper may exit between the listing and the read: it then holds no memory to count.
    const pssOf = (pid: number): number => {
      try {
        return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      } catch {
        return 0;
      }
    };
    const pss = tree(tini.pid).reduce((sum, pid) => sum + pssOf(pid), 0);
    process.stdout.write(
      `image replay: Herald + Chromium PSS after a render and a chart: ${Math.round(pss / 1024)} MiB in ${tree(tini.pid).length} processes\n`,
    );
  });

  it("answers the image's HEALTHCHECK with 0 while up, exits 0 on SIGTERM to PID 1, then the HEALTHCHECK fails", async () => {
    expect(healthcheck()).toBe(0);
    const [tini] = childrenOf(herald.pid!);
    // `docker stop` and the kubelet signal the container's PID 1.
    process.kill(tini.pid, 'SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(healthcheck()).toBe(1);
    // Nothing was written under /app (the image runs with a read-only root filesystem); Chromium's profile went to /tmp.
    expect(snapshot(layout.app)).toEqual(appBefore);
    const log = readFileSync(path.join(layout.dir, 'herald.log'), 'utf8');
    expect(log).not.toContain(baseTestEnv().SYSTEM_TOKEN);
  });
});
