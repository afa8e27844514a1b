/**
 * The report page in a real browser: Debian's chromium, headless, with a fresh profile and
 * nothing that reaches the network. `--dump-dom` gives the page as the browser parsed it;
 * `--screenshot` gives it as rendered, and the PNG is read here (RFC 2083: IHDR, IDAT, the
 * five row filters) so a test can count the colours the cells were painted with.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--hide-scrollbars',
];

function chromium(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'splitrelay-chromium-'));
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

export async function dumpDom(file: string): Promise<string> {
  const r = await chromium(['--dump-dom', `file://${file}`]);
  if (r.code !== 0)
    throw new Error(`chromium --dump-dom exited ${r.code}: ${r.stderr.slice(-500)}`);
  return r.stdout;
}

export async function screenshot(file: string, png: string, size = '1400,2400'): Promise<void> {
  const r = await chromium([`--screenshot=${png}`, `--window-size=${size}`, `file://${file}`]);
  if (r.code !== 0)
    throw new Error(`chromium --screenshot exited ${r.code}: ${r.stderr.slice(-500)}`);
}

export interface Image {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes per pixel. */
  readonly pixels: Uint8Array;
}

/** An 8-bit RGB or RGBA, non-interlaced PNG (what chromium writes). */
export function readPng(file: string): Image {
  const bytes = readFileSync(file);
  if (bytes.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6))
        throw new Error('unsupported PNG');
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (cur[x - channels] as number) : 0;
      const b = prev[x] as number;
      const c = x >= channels ? (prev[x - channels] as number) : 0;
      const v = line[x] as number;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = (v + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = cur[x * channels + k] as number;
      out[(y * width + x) * 4 + 3] = channels === 4 ? (cur[x * channels + 3] as number) : 255;
    }
    prev = cur;
  }
  return { width, height, pixels: out };
}

/** How many pixels have exactly this colour. */
export function countColour(image: Image, [r, g, b]: readonly [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < image.pixels.length; i += 4)
    if (image.pixels[i] === r && image.pixels[i + 1] === g && image.pixels[i + 2] === b) n++;
  return n;
}

/** The report's cell colours (packages/core/evidence, render-html.ts). */
export const PASS_GREEN = [0xd9, 0xf2, 0xdc] as const;
export const FAIL_RED = [0xf8, 0xd4, 0xd4] as const;
