/**
 * A contender is one way for the measuring client to reach the target: it opens raw byte
 * streams to a target port (the measures put the same TLS on top of each), can start a fresh
 * client for a cold start, and names the processes that play each role for CPU and memory.
 */
import type { Duplex } from 'node:stream';
import type { UdpPath } from '../measure/udp-paths.ts';

export type ContenderId =
  'direct' | 'splitrelay' | 'splitrelay-sdk' | 'ssh-aes128-gcm' | 'ssh-chacha20';

export interface RolePids {
  /** The local client: SplitRelay client app, or the ssh client and its jump helper. */
  readonly client: readonly number[];
  /** First hop: SplitRelay ingress, or the jump host's sshd tree. */
  readonly ingress: readonly number[];
  /** Second hop: SplitRelay egress, or the exit host's sshd tree. */
  readonly egress: readonly number[];
}

/** A client that exists only for one cold start. */
export interface FreshClient {
  openStream(port: number): Promise<Duplex>;
  close(): Promise<void>;
}

export interface Contender {
  readonly id: ContenderId;
  readonly label: string;
  /** A new flow to the target port on the already open client/session. */
  openStream(port: number): Promise<Duplex>;
  /** A UDP path to the target's UDP port; absent where the contender has no UDP (OpenSSH). */
  openUdp?(port: number): Promise<UdpPath>;
  /**
   * Starts a new client (a process, except for the in-process SDK and direct) and returns
   * once it is started; the cold-start clock runs from before this call to the first byte.
   */
  freshClient(): Promise<FreshClient>;
  roles(): RolePids;
  /** Asks the relay processes to collect garbage before memory is read (no-op for sshd). */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}
