// LOG_PRETTY=true gives human-readable lines: pino-pretty is a dependency, so the built logger's transport loads.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const DIST = path.resolve(__dirname, '../../dist');

describe('LOG_PRETTY', () => {
  // The built logger setup, as dist/main.js loads it, writing through the transport it configures.
  const log = (pretty: boolean) =>
    spawnSync(
      process.execPath,
      [
        '-e',
        // nestjs-pino hands pinoHttp its options as they are; pino-http builds the logger with that transport.
        `const { loggerParams } = require(${JSON.stringify(path.join(DIST, 'common/logging.js'))});
         const { logger } = require('pino-http')(loggerParams({ log: { level: 'info', pretty: ${pretty} } }).pinoHttp);
         logger.info({ shard: 3 }, 'hello from herald');`,
      ],
      { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', timeout: 30000 },
    );

  beforeAll(() => {
    if (!existsSync(path.join(DIST, 'common/logging.js'))) throw new Error('dist/ is missing: `npm test` builds it first (or run `npm run build`)');
  });

  it('prints one readable line instead of JSON when true', () => {
    const result = log(true);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const line = result.stdout.trim();
    expect(line).toMatch(/INFO.*hello from herald/);
    expect(line).toContain('shard');
    expect(() => JSON.parse(line)).toThrow();
  });

  it('prints JSON lines when false', () => {
    const result = log(false);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ level: 30, msg: 'hello from herald', shard: 3 });
  });
});
