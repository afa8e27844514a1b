/**
 * The kernel's socket tables and which of their rows are a process's own. Linux lists every
 * socket of a network namespace in /proc/net/{tcp,tcp6,udp,udp6}; a process's own sockets are
 * the inodes its /proc/<pid>/fd links name (`socket:[1070953]`). The UDP tables carry the one
 * count no API gives: `drops`, datagrams the kernel discarded because the socket's receive
 * buffer was full (or a filter refused them).
 *
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 *   13694: 0104007F:9C53 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1070953 2 000000007360bc0d 0
 *
 * Addresses are the kernel's in-memory words as hex (one 32-bit word for IPv4, four for IPv6,
 * each in the host's byte order), ports are hex numbers, `st` is the TCP state (01
 * ESTABLISHED; 07 for an unconnected UDP socket). See proc_net_tcp(5) and proc(5).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { formatIpText } from '@splitrelay/authority';

export type SocketProtocol = 'tcp' | 'udp';

export interface SocketRow {
  readonly protocol: SocketProtocol;
  readonly family: 4 | 6;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** TCP state number (1 ESTABLISHED, 10 LISTEN; 7 for an unconnected UDP socket). */
  readonly state: number;
  /** Bytes queued to send and received but not read, as the kernel counts them. */
  readonly txQueue: number;
  readonly rxQueue: number;
  readonly inode: number;
  /** UDP only: datagrams the kernel dropped for this socket since it was made. */
  readonly drops?: number;
}

export const TCP_ESTABLISHED = 1;

/**
 * Parses one /proc/net socket table. Lines that do not fit the layout are skipped (the
 * header, a future column order would give none: callers treat "no row" as "not known").
 */
export function parseSocketTable(
  text: string,
  protocol: SocketProtocol,
  littleEndian = endianness() === 'LE',
): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0] ?? '')) continue;
    const local = endpoint(f[1]!, littleEndian);
    const remote = endpoint(f[2]!, littleEndian);
    const queues = /^([0-9A-Fa-f]+):([0-9A-Fa-f]+)$/.exec(f[4]!);
    const inode = Number(f[9]);
    if (!local || !remote || !queues || !Number.isSafeInteger(inode)) continue;
    const drops = protocol === 'udp' && f.length >= 13 ? Number(f[12]) : undefined;
    rows.push({
      protocol,
      family: local.family,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: parseInt(f[3]!, 16),
      txQueue: parseInt(queues[1]!, 16),
      rxQueue: parseInt(queues[2]!, 16),
      inode,
      ...(drops !== undefined && Number.isSafeInteger(drops) ? { drops } : {}),
    });
  }
  return rows;
}

function endpoint(
  text: string,
  littleEndian: boolean,
): { family: 4 | 6; address: string; port: number } | undefined {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(text);
  if (!m) return undefined;
  const hex = m[1]!;
  const bytes = new Uint8Array(hex.length / 2);
  // Each 32-bit word is printed as the number it is in memory: on a little-endian host its
  // bytes come out reversed.
  for (let word = 0; word < hex.length / 8; word++) {
    for (let i = 0; i < 4; i++) {
      const byte = parseInt(hex.slice(word * 8 + i * 2, word * 8 + i * 2 + 2), 16);
      bytes[word * 4 + (littleEndian ? 3 - i : i)] = byte;
    }
  }
  return {
    family: bytes.length === 4 ? 4 : 6,
    // As Node spells a peer (an IPv4-mapped address as `::ffff:a.b.c.d`), so rows compare
    // with socket.remoteAddress.
    address: formatIpText(bytes),
    port: parseInt(m[2]!, 16),
  };
}

/** The socket inodes a process holds open (its own: `self`, or another of the same user). */
export async function socketInodes(pid: number | 'self' = 'self'): Promise<Set<number>> {
  const dir = `/proc/${pid}/fd`;
  const inodes = new Set<number>();
  for (const fd of await readdir(dir)) {
    // A descriptor closed between readdir and readlink is simply gone.
    const link = await readlink(`${dir}/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(Number(m[1]));
  }
  return inodes;
}

/**
 * The rows of a process's own sockets of one protocol, IPv4 and IPv6, as its network
 * namespace lists them. Empty where /proc is not Linux's.
 */
export async function ownSockets(
  protocol: SocketProtocol,
  pid: number | 'self' = 'self',
): Promise<SocketRow[]> {
  const [inodes, v4, v6] = await Promise.all([
    socketInodes(pid).catch(() => new Set<number>()),
    readFile(`/proc/${pid}/net/${protocol}`, 'utf8').catch(() => ''),
    readFile(`/proc/${pid}/net/${protocol}6`, 'utf8').catch(() => ''),
  ]);
  return [...parseSocketTable(v4, protocol), ...parseSocketTable(v6, protocol)].filter((r) =>
    inodes.has(r.inode),
  );
}
