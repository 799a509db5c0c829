import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';

export type Rgb = readonly [red: number, green: number, blue: number];

/** A PNG filled with one colour; handy as an attachment in tests. */
export function solidPng(width: number, height: number, colour: Rgb): Buffer {
  return drawPng(width, height, () => colour);
}

/**
 * The picture the stand-in's CDN serves as someone's avatar: a colour picked from the seed (user id) with a
 * lighter diagonal band, so avatars differ between people and are stable between runs (golden images rely on it).
 */
export function avatarPng(seed: string, size = 128): Buffer {
  const base = colourFromSeed(seed);
  const light: Rgb = [lighten(base[0]), lighten(base[1]), lighten(base[2])];
  return drawPng(size, size, (x, y) => (Math.abs(x - y) < size / 5 ? light : base));
}

/** A custom emoji: a filled diamond on a transparent background. */
export function emojiPng(seed: string, size = 48): Buffer {
  const colour = colourFromSeed(seed);
  const half = size / 2;
  return drawPng(size, size, (x, y) => (Math.abs(x + 0.5 - half) + Math.abs(y + 0.5 - half) <= half ? colour : null));
}

/** Width and height from a PNG's IHDR chunk; null for anything that is not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | null {
  const signature = '89504e470d0a1a0a';
  if (bytes.length < 24 || bytes.subarray(0, 8).toString('hex') !== signature) return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function drawPng(width: number, height: number, pixel: (x: number, y: number) => Rgb | null): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      const colour = pixel(x, y);
      png.data[at] = colour?.[0] ?? 0;
      png.data[at + 1] = colour?.[1] ?? 0;
      png.data[at + 2] = colour?.[2] ?? 0;
      png.data[at + 3] = colour ? 255 : 0;
    }
  }
  return PNG.sync.write(png);
}

function colourFromSeed(seed: string): Rgb {
  const digest = createHash('sha256').update(seed).digest();
  // Keep channels in the middle of the range so the avatar is neither black nor white on the dark theme.
  return [60 + (digest[0] % 150), 60 + (digest[1] % 150), 60 + (digest[2] % 150)];
}

function lighten(channel: number): number {
  return Math.min(255, channel + 70);
}
