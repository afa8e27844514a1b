/**
 * Throughput of the leak search and of capture dissection on synthetic data, for the
 * README's numbers: `node packages/core/evidence/test/measure.ts`. Not a test.
 */
import { randomBytes } from 'node:crypto';
import { dissectCapture, findLeaks, targetIdentities, type Identity } from '../src/index.ts';
import { conversation, pcap } from './pcap-builder.ts';

const MiB = 1024 * 1024;
const identities: Identity[] = [
  ...targetIdentities({ name: 'target.example', ip: '192.0.2.7', port: 4433 }),
  { kind: 'ip', address: '2001:db8::7' },
  { kind: 'bytes', bytes: randomBytes(32), label: 'nonce' },
];

function time(label: string, bytes: number, run: () => unknown): void {
  run();
  const start = performance.now();
  const rounds = 3;
  for (let i = 0; i < rounds; i++) run();
  const ms = (performance.now() - start) / rounds;
  console.log(
    `${label}: ${(bytes / MiB).toFixed(0)} MiB in ${ms.toFixed(0)} ms = ${((bytes / MiB) * (1000 / ms)).toFixed(0)} MiB/s`,
  );
}

// Ciphertext-like bytes, and log-like text with base64 runs.
const random = randomBytes(16 * MiB);
const lines: string[] = [];
for (let size = 0; size < 16 * MiB; size += (lines.at(-1)?.length ?? 0) + 1) {
  lines.push(
    `{"level":30,"peer":"198.51.100.${lines.length % 250}:${40000 + (lines.length % 2000)}","token":"${randomBytes(48).toString('base64url')}"}`,
  );
}
const text = Buffer.from(lines.join('\n'));
const needles = identities.length;
time(`leak search, ${needles} identities, every encoding, random bytes`, random.length, () =>
  findLeaks({ random }, identities),
);
time(`leak search, ${needles} identities, every encoding, JSON log text`, text.length, () =>
  findLeaks({ text }, identities),
);
time(`leak search, ${needles} identities, text only, random bytes`, random.length, () =>
  findLeaks({ random }, identities, { encodings: ['text'] }),
);

const turns = Array.from({ length: 2000 }, (_, i) => ({
  fromClient: i % 2 === 0,
  data: randomBytes(8000),
}));
const file = pcap(
  conversation({ ip: '192.0.2.10', port: 40000 }, { ip: '198.51.100.20', port: 443 }, turns),
);
time('pcap dissection with TCP reassembly', file.length, () => dissectCapture(file));
