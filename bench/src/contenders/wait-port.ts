/** Polls a TCP port until it accepts a connection (bounded by a deadline). */
import net from 'node:net';
import { eventually } from '@splitrelay/test-kit/eventually';

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(
  host: string,
  port: number,
  deadlineMs = 20_000,
  everyMs = 2,
): Promise<void> {
  await eventually(`${host}:${port} to accept connections`, () => tryConnect(host, port), {
    timeoutMs: deadlineMs,
    intervalMs: everyMs,
  });
}
