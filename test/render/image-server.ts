// A stand-in for Discord's CDN: deterministic pictures (drawn with pngjs) plus the failure cases the renderer must
// survive (404, a hang, an oversized body, a non-image, a redirect off the allowlist).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';

type Pixel = [number, number, number, number?];

export function drawPng(width: number, height: number, pixel: (x: number, y: number) => Pixel): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = pixel(x, y);
      const offset = (y * width + x) * 4;
      png.data[offset] = r;
      png.data[offset + 1] = g;
      png.data[offset + 2] = b;
      png.data[offset + 3] = a;
    }
  }
  return PNG.sync.write(png);
}

const disc =
  (size: number, color: Pixel) =>
  (x: number, y: number): Pixel =>
    (x - size / 2 + 0.5) ** 2 + (y - size / 2 + 0.5) ** 2 <= (size / 2) ** 2 ? color : [0, 0, 0, 0];

export const PICTURES: Record<string, Buffer> = {
  '/avatars/ada.png': drawPng(128, 128, (x, y) => [230 - x, 90 + y, 60 + ((x + y) >> 1)]),
  '/avatars/grace.png': drawPng(128, 128, (x, y) => [40 + (y >> 1), 120 + (x >> 1), 220]),
  '/emojis/423456789012345678.png': drawPng(64, 64, disc(64, [250, 200, 40])),
  '/emojis/523456789012345678.png': drawPng(64, 64, (x, y) => (Math.abs(x - 32) + Math.abs(y - 32) < 30 ? [220, 60, 90] : [0, 0, 0, 0])),
  '/attachments/landscape.png': drawPng(1200, 675, (x, y) => [Math.floor((x / 1200) * 255), Math.floor((y / 675) * 180), 150]),
  '/attachments/square.png': drawPng(300, 300, (x, y) => (((x >> 5) + (y >> 5)) % 2 ? [70, 160, 110] : [30, 90, 60])),
  '/embeds/thumb.png': drawPng(160, 160, (x, y) => [90, 100 + (x >> 1), 200 - (y >> 1)]),
  '/embeds/banner.png': drawPng(800, 300, (x, y) => [40 + (x * 180) / 800, 50, 120 + (y * 120) / 300]),
  '/stickers/wave.png': drawPng(160, 160, disc(160, [88, 101, 242])),
  '/attachments/portrait.png': drawPng(400, 600, (x, y) => [200 - (y >> 2), 80 + (x >> 2), 90 + (y >> 3)]),
  '/attachments/stripes.png': drawPng(640, 360, (x) => ((x >> 5) % 2 ? [240, 180, 40] : [40, 60, 120])),
  '/attachments/clip-first-frame.png': drawPng(640, 360, (x, y) => [20 + (y >> 2), 30 + (x >> 3), 60]),
  '/embeds/tenor-still.png': drawPng(498, 280, (x, y) => ((x - 249) ** 2 + (y - 140) ** 2 < 100 ** 2 ? [250, 220, 60] : [60, 140, 200])),
};

export interface ImageServer {
  url: string;
  host: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startImageServer(): Promise<ImageServer> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    requests.push(path);
    const picture = PICTURES[path];
    if (picture) {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': picture.length });
      response.end(picture);
      return;
    }
    switch (path) {
      case '/hang.png':
        return; // never answers: the fetch must time out
      case '/huge.png':
        response.writeHead(200, { 'content-type': 'image/png' });
        response.end(Buffer.alloc(3 * 1024 * 1024, 1));
        return;
      case '/not-an-image.png':
        response.writeHead(200, { 'content-type': 'image/png' });
        response.end('<svg onload="alert(1)"></svg>');
        return;
      case '/redirect-away.png':
        response.writeHead(302, { location: 'http://images.example.invalid/x.png' });
        response.end();
        return;
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
