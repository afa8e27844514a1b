/**
 * What the kernel drops before the client app ever sees it: datagrams that arrive at an
 * association's UDP socket while its receive buffer is full (the event loop was busy, a burst
 * outran it). No API reports them; Linux counts them per socket in the `drops` column of
 * /proc/net/udp and /proc/net/udp6. This tracker finds each association socket's row by the
 * inode its descriptor names (so only this process's own sockets count), reads its count once
 * more just before the socket closes, and sums closed and open sockets. Elsewhere than Linux
 * the tables are absent and the count stays 0.
 */
import type dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { ownSockets, parseSocketTable, type SocketRow } from '@splitrelay/transport';

interface Tracked {
  readonly family: 'udp' | 'udp6';
  readonly port: number;
  inode: number | undefined;
}

export class UdpKernelDrops {
  readonly #live = new Map<dgram.Socket, Tracked>();
  #released = 0;

  /** Starts tracking a bound socket. */
  add(socket: dgram.Socket): void {
    const address = socket.address();
    const tracked: Tracked = {
      family: address.family === 'IPv6' ? 'udp6' : 'udp',
      port: address.port,
      inode: undefined,
    };
    this.#live.set(socket, tracked);
    // Which row is ours: the inode of our own descriptor, looked up once.
    void ownSockets('udp')
      .then((rows) => {
        tracked.inode = rows.find((r) => r.localPort === tracked.port)?.inode;
      })
      .catch(() => {});
  }

  /**
   * The socket's last count, read synchronously just before it closes (its row goes with it):
   * call before `socket.close()`. Counted once.
   */
  release(socket: dgram.Socket): void {
    const tracked = this.#live.get(socket);
    if (!tracked) return;
    this.#live.delete(socket);
    let text: string;
    try {
      text = readFileSync(`/proc/self/net/${tracked.family}`, 'utf8');
    } catch {
      return;
    }
    this.#released += dropsOf(parseSocketTable(text, 'udp'), tracked);
  }

  /** Datagrams the kernel dropped at every association socket so far, open and closed. */
  async total(): Promise<number> {
    if (this.#live.size === 0) return this.#released;
    const rows = await ownSockets('udp');
    let live = 0;
    for (const tracked of this.#live.values()) live += dropsOf(rows, tracked);
    return this.#released + live;
  }
}

function dropsOf(rows: readonly SocketRow[], tracked: Tracked): number {
  // Before the inode is known, the bound port names the socket: it was bound exclusively.
  const row = rows.find((r) =>
    tracked.inode === undefined ? r.localPort === tracked.port : r.inode === tracked.inode,
  );
  return row?.drops ?? 0;
}
