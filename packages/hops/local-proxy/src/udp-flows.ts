/**
 * The flows of one SOCKS UDP association: one UdpFlow per target the client names, opened
 * on its first datagram.
 *
 *   datagram for target ─▶ no entry ─▶ openUdp(target) ─┬─▶ open: flush the queue
 *                       │                                └─▶ refused: drop the queue, hold the failure
 *                       ├─▶ opening ─▶ queue (bounded)
 *                       ├─▶ open    ─▶ flow.send, idle timer refreshed (either direction)
 *                       └─▶ failed  ─▶ dropped until the hold expires
 *
 * The failure hold keeps a client that floods a refused target from making the relays
 * refuse it once per packet. Failed entries count against the flow limit until they expire,
 * which also bounds how fast one association can make the connector try new targets.
 */
import { toRelayError } from '@splitrelay/errors';
import type { LocalProxyLogger, Target, UdpConnector, UdpFlow } from './types.ts';
import type { UdpCounters } from './udp-counters.ts';

export interface UdpFlowLimits {
  readonly maxFlows: number;
  readonly idleTimeoutMs: number;
  readonly failureHoldMs: number;
  readonly maxQueuedDatagrams: number;
  readonly maxQueuedBytes: number;
}

export interface UdpFlowTableOptions {
  readonly openUdp: UdpConnector;
  readonly limits: UdpFlowLimits;
  readonly counters: UdpCounters;
  /** Aborts the connector calls still pending when the association ends. */
  readonly signal: AbortSignal;
  readonly logger?: LocalProxyLogger;
  /** Sends a flow's datagram to the client behind `header` (RSV, FRAG and the target as named). */
  readonly reply: (header: Uint8Array, payload: Buffer) => void;
}

interface Opening {
  readonly state: 'opening';
  readonly header: Uint8Array;
  readonly queue: Uint8Array[];
  queuedBytes: number;
}
interface Open {
  readonly state: 'open';
  readonly header: Uint8Array;
  readonly flow: UdpFlow;
  readonly idle: NodeJS.Timeout;
  readonly countFlowDrops: () => void;
}
interface Failed {
  readonly state: 'failed';
  readonly until: number;
}
type Entry = Opening | Open | Failed;

export class UdpFlowTable {
  readonly #entries = new Map<string, Entry>();
  readonly #options: UdpFlowTableOptions;
  #closed = false;

  constructor(options: UdpFlowTableOptions) {
    this.#options = options;
  }

  /** Flows open or opening, and targets held after a failure. */
  get size(): number {
    return this.#entries.size;
  }

  /** `header` is called only when the target is new: its reply header is kept with the flow. */
  send(target: Target, header: () => Uint8Array, payload: Uint8Array): void {
    if (this.#closed) return;
    const { counters } = this.#options;
    // host:port is unambiguous even for IPv6: the port is always after the last colon.
    const key = `${target.host}:${target.port}`;
    let entry = this.#entries.get(key);
    if (entry?.state === 'failed') {
      if (performance.now() < entry.until) {
        counters.droppedRefused++;
        return;
      }
      this.#entries.delete(key);
      entry = undefined;
    }
    if (entry === undefined) {
      if (!this.#hasRoom()) {
        counters.droppedFlowLimit++;
        return;
      }
      const opening: Opening = { state: 'opening', header: header(), queue: [], queuedBytes: 0 };
      this.#entries.set(key, opening);
      this.#enqueue(opening, payload);
      this.#open(key, target, opening).catch((err: unknown) => {
        // Only a connector or listener breaking its contract gets here; it must not crash us.
        this.#options.logger?.warn('socks udp flow failed', { code: toRelayError(err).code });
      });
      return;
    }
    if (entry.state === 'opening') {
      this.#enqueue(entry, payload);
      return;
    }
    entry.idle.refresh();
    counters.datagramsUp++;
    entry.flow.send(payload);
  }

  /** Closes every flow; connectors still opening are aborted through the signal. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) {
      if (entry.state === 'open') closeFlow(entry);
    }
  }

  #enqueue(entry: Opening, payload: Uint8Array): void {
    const { counters, limits } = this.#options;
    if (
      entry.queue.length >= limits.maxQueuedDatagrams ||
      entry.queuedBytes + payload.length > limits.maxQueuedBytes
    ) {
      counters.droppedQueueFull++;
      return;
    }
    entry.queue.push(payload);
    entry.queuedBytes += payload.length;
  }

  #hasRoom(): boolean {
    const { maxFlows } = this.#options.limits;
    if (this.#entries.size < maxFlows) return true;
    const now = performance.now();
    for (const [key, entry] of this.#entries) {
      if (entry.state === 'failed' && entry.until <= now) this.#entries.delete(key);
    }
    return this.#entries.size < maxFlows;
  }

  async #open(key: string, target: Target, opening: Opening): Promise<void> {
    const { counters, limits, logger } = this.#options;
    let flow: UdpFlow;
    try {
      flow = await this.#options.openUdp(target, this.#options.signal);
    } catch (err) {
      if (this.#entries.get(key) !== opening) return; // the association ended meanwhile
      logger?.debug('socks udp flow refused', { code: toRelayError(err).code });
      counters.droppedRefused += opening.queue.length;
      this.#entries.set(key, { state: 'failed', until: performance.now() + limits.failureHoldMs });
      return;
    }
    if (this.#closed || this.#entries.get(key) !== opening) {
      flow.close();
      return;
    }
    // Every datagram the flow itself dropped, counted once, when it leaves the table.
    let counted = false;
    const countFlowDrops = (): void => {
      if (counted) return;
      counted = true;
      counters.droppedInFlow += flow.stats?.dropped ?? 0;
    };
    const idle = setTimeout(() => this.#remove(key, open, true), limits.idleTimeoutMs);
    const open: Open = { state: 'open', header: opening.header, flow, idle, countFlowDrops };
    this.#entries.set(key, open);
    counters.flowsOpened++;
    flow.on('datagram', (payload) => {
      if (this.#entries.get(key) !== open) return;
      idle.refresh();
      this.#options.reply(open.header, payload);
    });
    // The relay side may end a flow (egress idle timeout, session loss): the next datagram
    // to that target opens a new one.
    flow.on('close', () => {
      countFlowDrops();
      this.#remove(key, open, false);
    });
    counters.datagramsUp += opening.queue.length;
    for (const payload of opening.queue) flow.send(payload);
    opening.queue.length = 0;
  }

  #remove(key: string, open: Open, close: boolean): void {
    if (this.#entries.get(key) !== open) return;
    this.#entries.delete(key);
    if (close) closeFlow(open);
    else clearTimeout(open.idle);
  }
}

function closeFlow(open: Open): void {
  clearTimeout(open.idle);
  open.countFlowDrops();
  try {
    open.flow.close();
  } catch {
    // A flow that throws on close is the connector's bug; the other flows must still close.
  }
}
