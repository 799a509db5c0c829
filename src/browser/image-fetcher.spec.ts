import { Logger } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/config';
import { ImageFetcher } from './image-fetcher';

const PNG_BYTES = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005000201ffa5e2a50000000049454e44ae426082',
  'hex',
);

describe('ImageFetcher', () => {
  beforeAll(() => Logger.overrideLogger(false));

  let server: Server;
  let host: string;
  let hits: string[];

  beforeAll(async () => {
    hits = [];
    server = createServer((request, response) => {
      hits.push(request.url ?? '');
      switch (request.url) {
        case '/ok.png':
          return response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PNG_BYTES);
        case '/svg.png':
          return response.writeHead(200, { 'content-type': 'image/png' }).end('<svg onload="alert(1)"/>');
        case '/big.png':
          return response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.concat([PNG_BYTES, Buffer.alloc(4096)]));
        case '/chunked-big.png':
          response.writeHead(200, { 'content-type': 'image/png' });
          response.write(PNG_BYTES);
          response.write(Buffer.alloc(4096));
          return response.end();
        case '/hang.png':
          return undefined;
        case '/redirect-home.png':
          return response.writeHead(302, { location: '/ok.png' }).end();
        case '/redirect-away.png':
          return response.writeHead(302, { location: 'http://elsewhere.invalid/x.png' }).end();
        default:
          return response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // A time limit no loaded CI worker's first request reaches (300 ms did, once: the picture came back as a
  // placeholder), so a placeholder below comes from the case itself; the server that never answers gets a short one.
  const fetcher = (allowlist = [host], fetchTimeoutMs = 10_000) =>
    new ImageFetcher({ render: { fetchAllowlist: allowlist, fetchTimeoutMs, fetchMaxBytes: 1024 } } as unknown as AppConfig);

  it('answers a data: URL typed by the picture’s own bytes, not by its Content-Type', async () => {
    await expect(fetcher().fetchInline(`http://${host}/ok.png`)).resolves.toBe(`data:image/png;base64,${PNG_BYTES.toString('base64')}`);
  });

  it.each([
    ['a host off the allowlist', 'http://elsewhere.invalid/ok.png'],
    ['a non-HTTP scheme', 'file:///etc/passwd'],
    ['a body that is not a picture', '/svg.png'],
    ['a declared size over the limit', '/big.png'],
    ['a streamed size over the limit', '/chunked-big.png'],
    ['a 404', '/missing.png'],
    ['a redirect off the allowlist', '/redirect-away.png'],
  ])('turns %s into a placeholder (null)', async (_case, path) => {
    const source = path.startsWith('/') ? `http://${host}${path}` : path;
    await expect(fetcher().fetchInline(source)).resolves.toBeNull();
  });

  it('turns a server that never answers into a placeholder (null) once RENDER_FETCH_TIMEOUT_MS passes', async () => {
    await expect(fetcher([host], 300).fetchInline(`http://${host}/hang.png`)).resolves.toBeNull();
  });

  it('follows a redirect that stays on the allowlist', async () => {
    await expect(fetcher().fetchInline(`http://${host}/redirect-home.png`)).resolves.toMatch(/^data:image\/png;base64,/);
  });

  it('matches allowlist entries by host name, host:port and *.suffix', () => {
    const check = fetcher(['cdn.discordapp.com', '127.0.0.1:8080', '*.discordapp.net']);
    expect(check.isAllowed(new URL('https://cdn.discordapp.com/a.png'))).toBe(true);
    expect(check.isAllowed(new URL('https://media.discordapp.net/a.png'))).toBe(true);
    expect(check.isAllowed(new URL('http://127.0.0.1:8080/a.png'))).toBe(true);
    expect(check.isAllowed(new URL('http://127.0.0.1:9090/a.png'))).toBe(false);
    expect(check.isAllowed(new URL('https://cdn.discordapp.com.evil.example/a.png'))).toBe(false);
    expect(check.isAllowed(new URL('https://discordapp.net.evil.example/a.png'))).toBe(false);
  });

  it('always allows the host of DISCORD_CDN_URL', () => {
    const check = new ImageFetcher({
      discord: { cdnUrl: 'http://127.0.0.1:7000/cdn' },
      render: { fetchAllowlist: [], fetchTimeoutMs: 300, fetchMaxBytes: 1024 },
    } as unknown as AppConfig);
    expect(check.isAllowed(new URL('http://127.0.0.1:7000/cdn/emojis/1.png'))).toBe(true);
    expect(check.isAllowed(new URL('http://127.0.0.1:7001/cdn/emojis/1.png'))).toBe(false);
  });

  it('fetches a repeated picture once', async () => {
    const shared = fetcher();
    const before = hits.filter((hit) => hit === '/ok.png').length;
    await Promise.all([shared.fetchInline(`http://${host}/ok.png`), shared.fetchInline(`http://${host}/ok.png`)]);
    await shared.fetchInline(`http://${host}/ok.png`);
    expect(hits.filter((hit) => hit === '/ok.png').length - before).toBe(1);
  });
});
