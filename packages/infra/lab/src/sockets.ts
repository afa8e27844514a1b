/**
 * Socket tables as data: who had which connection open, from `ss -tunap` or, where ss is
 * missing, from /proc/net/{tcp,tcp6,udp,udp6}. Pure parsers, so they are tested on fixtures.
 *
 * `ss -tunapH` prints one socket per line (no header with -H):
 *
 *   Netid State  Recv-Q Send-Q Local-Address:Port  Peer-Address:Port  Process
 *   tcp   ESTAB  0      0      198.51.100.2:8443   192.0.2.2:51234    users:(("node",pid=7,fd=21))
 *   tcp   LISTEN 0      511    *:8443              *:*                (dual-stack: family 6)
 *   udp   UNCONN 0      0      [2001:db8:0:7::2]:53 [::]:*
 *
 * /proc/net/tcp (and udp; tcp6 and udp6 have 32-digit addresses) prints, after a header line:
 *
 *   sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
 *   0:  0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0   0       12345 ...
 *
 * Addresses there are the kernel's 32-bit words printed as native integers, so on a
 * little-endian machine each word's bytes are reversed; ports are big-endian hex. The owner of
 * a /proc socket is found by its inode (sockets.ts only parses; the sampler maps inodes to pids).
 */
import { parseSocketTable } from '@splitrelay/transport';

export interface Endpoint {
  /** Text address as ss prints it (RFC 5952 for IPv6), or "*" for any address of both families. */
  readonly address: string;
  readonly port: number;
}

export interface SocketOwner {
  readonly name: string | undefined;
  readonly pid: number;
  readonly fd: number | undefined;
}

export interface SocketEntry {
  readonly protocol: 'tcp' | 'udp';
  readonly family: 4 | 6;
  /** ss's state names: ESTAB, LISTEN, SYN-SENT, TIME-WAIT, UNCONN... */
  readonly state: string;
  readonly local: Endpoint;
  /** Undefined when there is no peer (a listener, an unconnected UDP socket). */
  readonly remote: Endpoint | undefined;
  readonly owners: readonly SocketOwner[];
  /** Socket inode (from /proc only). */
  readonly inode?: number;
}

const OWNER = /\("((?:[^"\\]|\\.)*)",pid=(\d+)(?:,fd=(\d+))?\)/g;

/** Parses `ss -tunapH` (or `ss -tunap`: a header line is skipped). Unparseable lines are skipped. */
export function parseSs(text: string): SocketEntry[] {
  const entries: SocketEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [netid, state, , , local, peer] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (netid !== 'tcp' && netid !== 'udp') continue;
    const l = parseSsEndpoint(local);
    const r = parseSsEndpoint(peer);
    if (l === undefined || r === undefined) continue;
    const rest = fields.slice(6).join(' ');
    const owners: SocketOwner[] = [];
    for (const m of rest.matchAll(OWNER)) {
      owners.push({
        name: m[1],
        pid: Number(m[2]),
        fd: m[3] === undefined ? undefined : Number(m[3]),
      });
    }
    entries.push({
      protocol: netid,
      family: l.family,
      state,
      local: { address: l.address, port: l.port ?? 0 },
      remote:
        r.port === undefined || isUnspecified(r.address)
          ? undefined
          : { address: r.address, port: r.port },
      owners,
    });
  }
  return entries;
}

function parseSsEndpoint(
  text: string,
): { address: string; port: number | undefined; family: 4 | 6 } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  let port: number | undefined;
  if (portText === '*') port = undefined;
  else if (/^[0-9]{1,5}$/.test(portText) && Number(portText) <= 65535) port = Number(portText);
  else return undefined;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const scope = host.indexOf('%');
  if (scope >= 0) host = host.slice(0, scope);
  if (host === '*') return { address: '*', port, family: 6 };
  if (host.includes(':')) return { address: host, port, family: 6 };
  if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(host)) return { address: host, port, family: 4 };
  return undefined;
}

function isUnspecified(address: string): boolean {
  return address === '*' || address === '0.0.0.0' || address === '::';
}

const TCP_STATES: Readonly<Record<number, string>> = {
  0x01: 'ESTAB',
  0x02: 'SYN-SENT',
  0x03: 'SYN-RECV',
  0x04: 'FIN-WAIT-1',
  0x05: 'FIN-WAIT-2',
  0x06: 'TIME-WAIT',
  0x07: 'UNCONN',
  0x08: 'CLOSE-WAIT',
  0x09: 'LAST-ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
  0x0c: 'NEW-SYN-RECV',
};

export interface ProcNetOptions {
  readonly protocol: 'tcp' | 'udp';
  readonly family: 4 | 6;
  /** Byte order the kernel printed words in: the machine's (os.endianness() === 'LE'). */
  readonly littleEndian: boolean;
}

/**
 * Parses one of /proc/net/{tcp,tcp6,udp,udp6} with the transport's one reader of those
 * tables; owners are left empty (see the header).
 */
export function parseProcNet(text: string, options: ProcNetOptions): SocketEntry[] {
  return parseSocketTable(text, options.protocol, options.littleEndian)
    .filter((row) => row.family === options.family)
    .map((row) => {
      const remote = { address: row.remoteAddress, port: row.remotePort };
      let state = TCP_STATES[row.state] ?? `0x${row.state.toString(16).padStart(2, '0')}`;
      if (options.protocol === 'udp') state = row.state === 0x01 ? 'ESTAB' : 'UNCONN';
      return {
        protocol: options.protocol,
        family: options.family,
        state,
        local: { address: row.localAddress, port: row.localPort },
        remote: remote.port === 0 && isUnspecified(remote.address) ? undefined : remote,
        owners: [],
        inode: row.inode,
      };
    });
}

/** Sets the owners of /proc entries from an inode → owners map built by the sampler. */
export function withOwners(
  entries: readonly SocketEntry[],
  owners: ReadonlyMap<number, readonly SocketOwner[]>,
): SocketEntry[] {
  return entries.map((e) =>
    e.inode !== undefined && owners.has(e.inode) ? { ...e, owners: owners.get(e.inode)! } : e,
  );
}
