/** Polls a TCP port until it accepts a connection (bounded by a deadline). */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

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
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await tryConnect(host, port)) return;
    await sleep(everyMs);
  }
  throw new Error(`${host}:${port} did not accept connections within ${deadlineMs} ms`);
}
