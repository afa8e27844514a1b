/**
 * The leaked-handle check of every suite: a test that leaves a socket, server, timer or child
 * behind keeps the runner alive or hides a missing `close()`. Node names what keeps the loop
 * alive in `process.getActiveResourcesInfo()`.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { eventually } from './eventually.ts';

/** Everything keeping this process alive now (handles, requests, timers), sorted. */
export function activeResources(): string[] {
  return process.getActiveResourcesInfo().sort();
}

/**
 * Connections open in this process: TCP and TLS sockets, UDP sockets and HTTP/2 sessions.
 * Listening servers and child-process pipes are not counted: targets and relays of a world
 * stay up across the tests of a file.
 */
export function openNetworkHandles(): string[] {
  return activeResources().filter((r) => /TCPSocketWrap|TLSWrap|UDPWrap|Http2/i.test(r));
}

export interface LeakCheckOptions {
  /**
   * `activeResources()` as it was when the test file loaded (the runner's own pipes are there
   * from the start): every resource must be back to it. Without, no connection may be open.
   */
  readonly baseline?: readonly string[];
  /** How long closing handles may take to go, in ms (beyond a few loop turns; 0 by default). */
  readonly graceMs?: number;
}

/** Fails, listing what is left, if a test left a resource behind. */
export async function assertNoLeakedHandles(options: LeakCheckOptions = {}): Promise<void> {
  const expected = options.baseline ? [...options.baseline].sort() : [];
  const current = options.baseline ? activeResources : openNetworkHandles;
  // A server's close callback runs before libuv frees its handle: a few loop turns let closed
  // handles finish closing, while a leaked one stays.
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  if (options.graceMs !== undefined && options.graceMs > 0) {
    await eventually('handles to close', () => isDeepStrictEqual(current(), expected), {
      timeoutMs: options.graceMs,
      intervalMs: 20,
    }).catch(() => {
      // The assertion below says what is left.
    });
  }
  assert.deepEqual(current(), expected, 'a socket, server, timer or child was left behind');
}
