/** What the integration tests share: can this machine host a lab, and what is left of one. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { findBinary } from '../src/commands.ts';
import { defaultRegistryDir } from '../src/manifest.ts';
import { LAB_ID_ENV } from '../src/names.ts';
import { environValue, listPids, procStat } from '../src/proc.ts';

/** Why namespaced tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (findBinary('ip') === undefined) return 'needs iproute2 (apt-get install -y iproute2)';
  return undefined;
}

export function tcpdumpUnavailable(): string | undefined {
  return findBinary('tcpdump') === undefined
    ? 'needs tcpdump (apt-get install -y tcpdump)'
    : undefined;
}

export function namespacesOf(id: string): string[] {
  return execFileSync(findBinary('ip')!, ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${id}-`));
}

/** Live processes (not zombies) carrying the lab's marker. */
export function markedProcesses(id: string): number[] {
  return listPids().filter((pid) => {
    const state = procStat(pid)?.state;
    return state !== undefined && state !== 'Z' && environValue(pid, LAB_ID_ENV) === id;
  });
}

/** Everything of a lab that could outlive it, in words; empty when nothing is left. */
export function leftoversOf(id: string): string[] {
  const left: string[] = [];
  for (const ns of namespacesOf(id)) left.push(`namespace ${ns}`);
  const compact = id.replace('-', '');
  const links = execFileSync(findBinary('ip')!, ['-o', 'link', 'show'], { encoding: 'utf8' });
  if (links.includes(compact)) left.push('a host link');
  if (existsSync('/etc/netns')) {
    for (const d of readdirSync('/etc/netns'))
      if (d.startsWith(`${id}-`)) left.push(`/etc/netns/${d}`);
  }
  for (const pid of markedProcesses(id)) left.push(`process ${pid}`);
  if (existsSync(`${defaultRegistryDir()}/${id}.json`)) left.push('registry entry');
  return left;
}

export interface PcapPacket {
  readonly caplen: number;
  readonly origlen: number;
  readonly data: Buffer;
}

/** Classic libpcap files as tcpdump -w writes them (either byte order). Enough for assertions. */
export function readPcap(file: string): {
  linktype: number;
  snaplen: number;
  packets: PcapPacket[];
} {
  const buf = readFileSync(file);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error(`${file}: not a pcap file`);
  }
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const packets: PcapPacket[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const caplen = u32(off + 8);
    const origlen = u32(off + 12);
    if (off + 16 + caplen > buf.length) throw new Error(`${file}: truncated packet record`);
    packets.push({ caplen, origlen, data: buf.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return { snaplen: u32(16), linktype: u32(20), packets };
}

/** Destination TCP port of an Ethernet/IPv4-or-IPv6/TCP frame with SYN set and ACK clear, if it is one. */
export function synPort(frame: Buffer): number | undefined {
  const type = frame.readUInt16BE(12);
  let tcp: number;
  if (type === 0x0800 && frame[23] === 6) tcp = 14 + (frame[14]! & 0x0f) * 4;
  else if (type === 0x86dd && frame[20] === 6) tcp = 14 + 40;
  else return undefined;
  const flags = frame[tcp + 13]!;
  return (flags & 0x12) === 0x02 ? frame.readUInt16BE(tcp + 2) : undefined;
}
