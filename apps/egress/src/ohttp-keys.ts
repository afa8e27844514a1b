#!/usr/bin/env node
/**
 * The egress operator's Oblivious HTTP key tool: edits the gateway's key ring (the file the
 * egress reads at start and on SIGHUP) and exports what the signed entry publishes.
 *
 *   splitrelay-ohttp-keys add     --ring keys.json --kem x25519|x-wing [--key-id N] [--aead aes-128-gcm]...
 *   splitrelay-ohttp-keys promote --ring keys.json --key-id N
 *   splitrelay-ohttp-keys retire  --ring keys.json --key-id N (--in-seconds S | --at UNIX)
 *   splitrelay-ohttp-keys prune   --ring keys.json
 *   splitrelay-ohttp-keys export  --ring keys.json --out ohttp-keys.bin
 *   splitrelay-ohttp-keys list    --ring keys.json
 *
 * A rotation with overlap (docs/ohttp.md): add, SIGHUP, export and sign-entry (the new key is
 * published, not yet preferred); promote, export, sign-entry (clients switch as they refresh);
 * retire the old key for longer than clients keep a directory, export, sign-entry, SIGHUP;
 * prune once its window has ended, SIGHUP.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cliArgs } from '@splitrelay/config';
import {
  AEADS,
  EMPTY_RING,
  KEMS,
  addKey,
  promoteKey,
  pruneKeys,
  publishedKeys,
  readKeyRing,
  retireKey,
  writeKeyRing,
  type AeadName,
  type KemName,
} from '@splitrelay/ohttp-gateway';

const usage =
  'usage: splitrelay-ohttp-keys <add|promote|retire|prune|export|list> --ring keys.json [--kem x25519|x-wing] [--key-id N] [--aead NAME]... [--in-seconds S | --at UNIX] [--out FILE]';

const [command, ...rest] = process.argv.slice(2);
process.argv.splice(2, process.argv.length, ...rest);
const cli = cliArgs(usage, {
  ring: { type: 'string' },
  kem: { type: 'string' },
  'key-id': { type: 'string' },
  aead: { type: 'string', multiple: true },
  'in-seconds': { type: 'string' },
  at: { type: 'string' },
  out: { type: 'string' },
});
const { values } = cli;
const fail: (message: string) => never = cli.fail;

const ringFile = values.ring ?? fail('missing --ring');
const nowSeconds = Math.floor(Date.now() / 1000);
const integer = (text: string | undefined, what: string, max: number): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > max) fail(`${what} must be a whole number 0-${max}`);
  return Number(text);
};
const keyId = integer(values['key-id'], '--key-id', 255);
const needKeyId = (): number => keyId ?? fail('missing --key-id');

try {
  const ring = existsSync(ringFile) ? readKeyRing(ringFile) : EMPTY_RING;
  switch (command) {
    case 'add': {
      const kem = values.kem ?? fail('missing --kem');
      if (!(kem in KEMS)) fail(`--kem must be one of ${Object.keys(KEMS).join(', ')}`);
      const aeads = values.aead ?? ['aes-128-gcm', 'chacha20-poly1305'];
      for (const a of aeads)
        if (!(a in AEADS)) fail(`--aead must be one of ${Object.keys(AEADS).join(', ')}`);
      const added = await addKey(ring, kem as KemName, aeads as AeadName[], keyId);
      writeKeyRing(ringFile, added.ring);
      say(`added key ${added.keyId} (${kem}), published after the current ones`);
      break;
    }
    case 'promote':
      writeKeyRing(ringFile, promoteKey(ring, needKeyId()));
      say(`key ${needKeyId()} is now the one clients prefer`);
      break;
    case 'retire': {
      const inSeconds = integer(values['in-seconds'], '--in-seconds', 366 * 86_400);
      const at = integer(values.at, '--at', 2 ** 40);
      const notAfter =
        at ??
        (inSeconds !== undefined ? nowSeconds + inSeconds : fail('missing --in-seconds or --at'));
      writeKeyRing(ringFile, retireKey(ring, needKeyId(), notAfter));
      say(
        `key ${needKeyId()} is no longer published; accepted until ${new Date(notAfter * 1000).toISOString()}`,
      );
      break;
    }
    case 'prune': {
      const pruned = pruneKeys(ring, nowSeconds);
      writeKeyRing(ringFile, pruned);
      say(`${ring.keys.length - pruned.keys.length} key(s) removed`);
      break;
    }
    case 'export': {
      const out = values.out ?? fail('missing --out');
      const bytes = await publishedKeys(ring);
      writeFileSync(out, bytes);
      say(
        `wrote application/ohttp-keys (${bytes.length} bytes, keys ${ring.keys
          .filter((k) => k.notAfter === undefined)
          .map((k) => k.keyId)
          .join(', ')}) to ${out}`,
      );
      break;
    }
    case 'list':
      for (const k of ring.keys) {
        const state =
          k.notAfter === undefined
            ? 'published'
            : `retiring until ${new Date(k.notAfter * 1000).toISOString()}`;
        say(`${k.keyId}\t${k.kem}\t${k.symmetric.join(',')}\t${state}`);
      }
      break;
    default:
      fail(`unknown command ${command ?? '(none)'}`);
  }
} catch (err) {
  fail((err as Error).message);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
