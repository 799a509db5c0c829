import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { AddressInfo, connect, createServer } from 'node:net';
import { baseTestEnv, eventually } from '../support/app';
import { chromiumChildrenOf, fatalLine, startHeraldProcess as startHerald } from '../support/process';
import { freePort, processAlive } from '../support/servers';

jest.setTimeout(300_000);

describe('the Herald process', () => {
  it('refuses to start on a malformed variable and names it, in a line shaped like every other (pino: level 60, time, pid, hostname)', async () => {
    const { exited } = startHerald({ ...baseTestEnv(), BROWSER_POOL_SIZE: 'lots' });
    const result = await exited;
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('BROWSER_POOL_SIZE: must be a whole number, got \\"lots\\"');
    expect(result.stderr).not.toContain(baseTestEnv().SYSTEM_TOKEN);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    // A pipeline keeping level >= 50 keeps it.
    expect(JSON.parse(lines[0])).toEqual({
      level: 60,
      time: expect.any(Number),
      pid: expect.any(Number),
      hostname: expect.any(String),
      problems: ['BROWSER_POOL_SIZE: must be a whole number, got "lots"'],
      msg: 'Invalid configuration:\n  - BROWSER_POOL_SIZE: must be a whole number, got "lots"',
    });
  });

  it('with LOG_PRETTY, says why it cannot start in readable lines, not an escaped JSON line', async () => {
    const { exited } = startHerald({ ...baseTestEnv(), LOG_PRETTY: 'true', BROWSER_POOL_SIZE: 'lots', PORT: 'abc' });
    const result = await exited;
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] FATAL: Invalid configuration:\n {2}- PORT: must be a whole number, got "abc"\n {2}- BROWSER_POOL_SIZE: must be a whole number, got "lots"\n$/,
    );
  });

  it('refuses to start on a VK route set it cannot deliver, as a configuration problem: exit 78 and one fatal line', async () => {
    const env = { ...baseTestEnv(), VK_TOKEN: 'vk-token', VK_GROUP_ID: 'club1', VK_API_URL: 'http://127.0.0.1:9/method', AMQP_URL: '' };
    const result = await startHerald(env).exited;
    expect(result.code).toBe(78);
    const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.startsWith('{'));
    const reports = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 50);
    // Nest's own report of the error (its stack) is left out: the fatal line names the problem once.
    expect(reports).toEqual([
      expect.objectContaining({
        level: 60,
        msg: 'Invalid configuration:\n  - AMQP_URL: is required for the default VK route set (a RabbitMQ queue per event type); set it, or set defaultQueues: false in VK_ROUTES_FILE',
      }),
    ]);
  });

  it('exits 1 on a port another process holds, saying to set PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { exited } = startHerald({ ...baseTestEnv(), PORT: String(port), HOST: '127.0.0.1' });
      const result = await exited;
      expect(result.code).toBe(1);
      const fatal = fatalLine(result.stderr);
      expect(fatal?.msg).toBe(
        `Herald failed to start: listen EADDRINUSE: address already in use 127.0.0.1:${port} ` +
          '(another process listens there, perhaps another Herald: stop it or set PORT)',
      );
    } finally {
      taken.close();
    }
  });

  it('on SIGTERM stops serving, closes the browser and exits 0 within 10 s, printing no secret', async () => {
    const port = await freePort();
    const env: Record<string, string> = { ...baseTestEnv(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    const { child, exited } = startHerald(env);
    // Chromium's first start takes long on a loaded 2-core machine.
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 180_000, 250);
    await fetch(`http://127.0.0.1:${port}/health/live`, { headers: { authorization: `Bearer ${env.SYSTEM_TOKEN}` } });
    const browsers = chromiumChildrenOf(child.pid!);
    expect(browsers.length).toBeGreaterThan(0);

    const signalled = Date.now();
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10000);
    // By pid: once Herald has exited, a Chromium it left would no longer be its child.
    await eventually(() => browsers.every((pid) => !processAlive(pid)), 5000, 100);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();

    const lines = result.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(result.stdout + result.stderr).not.toContain(env.SYSTEM_TOKEN);
    expect(result.stdout + result.stderr).not.toContain(env.AWS_SECRET_ACCESS_KEY);
  });

  /**
   * Herald with its browser started by a first render, and a second render whose request body is still arriving: in
   * flight, so a graceful stop waits for it. `finish` sends the rest of the body and resolves with the answer's bytes
   * once the connection closes.
   */
  async function withRenderInFlight() {
    const port = await freePort();
    const env: Record<string, string> = { ...baseTestEnv(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    const { child, exited } = startHerald(env);
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => ({ status: 0 }))).status === 200;
    await eventually(ready, 180_000, 250);
    const first = await fetch(`http://127.0.0.1:${port}/render/discord-message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.SYSTEM_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ author: { name: 'Ada' }, content: 'a first render starts the browser' }),
    });
    expect(first.status).toBe(200);
    const browsers = chromiumChildrenOf(child.pid!);
    expect(browsers.length).toBeGreaterThan(0);

    const body = JSON.stringify({ author: { name: 'Ada' }, content: 'sent while Herald stops' });
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /render/discord-message HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer ${env.SYSTEM_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const finish = async () => {
      // Not end(): a half-closed connection is one Node's server closes without answering.
      if (!socket.destroyed) socket.write(body.slice(10));
      await closed;
      return answer;
    };
    return { child, exited, browsers, finish, notReady: () => eventually(async () => !(await ready()), 5000, 100), closed };
  }

  // Playwright's own signal handlers (its launch defaults until 2026-11-30) closed Chromium the moment a signal came,
  // under the renders still draining; on SIGINT they exited the process (130) before the drain, and on SIGHUP they kept
  // it running past a closed terminal.
  it.each([
    ['SIGTERM', ['SIGTERM']],
    ['SIGINT, twice at once (npm start in a terminal: Ctrl-C reaches both, and npm start forwards its own)', ['SIGINT', 'SIGINT']],
    ['SIGHUP (a closed terminal; no API_TOKENS_FILE to re-read)', ['SIGHUP']],
  ] as [string, NodeJS.Signals[]][])(
    'on %s, answers a render in flight with its image before closing the browser, and exits 0',
    async (_name, signals) => {
      const herald = await withRenderInFlight();
      for (const signal of signals) herald.child.kill(signal);
      await herald.notReady();
      // The browser is the one that drew the first render, still there for the request in flight.
      expect(chromiumChildrenOf(herald.child.pid!)).toEqual(herald.browsers);
      const answer = await herald.finish();
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(answer).toMatch(/\r\ncontent-type: image\/png\r\n/i);

      const result = await herald.exited;
      expect(result.code).toBe(0);
      await eventually(() => herald.browsers.every((pid) => !processAlive(pid)), 5000, 100);
      expect(result.stdout).toContain(`"signal":"${signals[0]}"`);
      expect(result.stdout).toContain('"msg":"Stopped"');
      expect(result.stdout).not.toContain('Chromium disconnected');
    },
  );

  it('on a second Ctrl-C a second after the first, exits at once (130) without waiting for the drain, leaving no browser', async () => {
    const herald = await withRenderInFlight();
    herald.child.kill('SIGINT');
    await herald.notReady();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    herald.child.kill('SIGINT');
    // The request in flight is never finished: the process is gone before its body is.
    const result = await herald.exited;
    expect(result.code).toBe(130);
    expect(result.stdout).toContain('Second Ctrl-C: exiting now');
    expect(result.stdout).not.toContain('"msg":"Stopped"');
    await herald.closed;
    await eventually(() => herald.browsers.every((pid) => !processAlive(pid)), 10_000, 100);
  });

  it('on SIGTERM, answers a request in flight on a kept-alive connection with Connection: close and serves no further request on it', async () => {
    const port = await freePort();
    const herald = startHerald({ ...baseTestEnv(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '20000' });
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => ({ status: 0 }))).status === 200, 180_000, 250);
    // One pooled connection, as a client library or an ingress controller keeps it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    type Answer = { status: number; connection?: string; reusedSocket: boolean };
    const send = (method: string, path: string, body?: { first: string; rest: Promise<string> }) =>
      new Promise<Answer>((resolve, reject) => {
        const sent = httpRequest({
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: body ? { 'content-type': 'application/json', 'content-length': 40 } : {},
        });
        sent.on('response', (response) => {
          const headers: IncomingHttpHeaders = response.headers;
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: headers.connection, reusedSocket: sent.reusedSocket }));
        });
        sent.on('error', reject);
        if (!body) return void sent.end();
        sent.write(body.first);
        void body.rest.then((rest) => sent.end(rest));
      });
    try {
      const warm = await send('GET', '/health/live');
      expect(warm).toMatchObject({ status: 200, connection: 'keep-alive' });

      // A request on that connection, its body still arriving when the signal comes: in flight.
      let finishBody: (rest: string) => void = () => undefined;
      const body = JSON.stringify({ note: 'sent across the SIGTERM' }).padEnd(40, ' ');
      // A served path (an unknown one is answered 404 at the door, before its body arrives); Notify is off in this process,
      // so once its body is read it is answered 503 naming the setting that turns it on.
      const inFlight = send('POST', '/notify', { first: body.slice(0, 10), rest: new Promise((resolve) => (finishBody = resolve)) });
      await new Promise((resolve) => setTimeout(resolve, 300));
      herald.child.kill('SIGTERM');
      await eventually(() => herald.output().stdout.includes('Shutting down'), 10_000, 50);
      finishBody(body.slice(10));
      const answered = await inFlight;
      expect(answered.reusedSocket).toBe(true);
      expect(answered.status).toBe(503);
      expect(answered.connection).toBe('close');

      // The next request cannot ride that connection: it needs a new one, which the stopping server refuses.
      const next = await send('GET', '/health/live').catch((error: NodeJS.ErrnoException) => error.code);
      expect(next).toBe('ECONNREFUSED');

      const result = await herald.exited;
      expect(result.code).toBe(0);
      const drained = result.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => String(line.msg).startsWith('HTTP drain'));
      expect(drained).toMatchObject({ msg: expect.stringContaining('HTTP drain finished'), finished: true, inFlightAtStart: 1, unfinished: 0 });
    } finally {
      agent.destroy();
      herald.child.kill('SIGKILL');
    }
  });
});
