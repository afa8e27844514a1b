/** Opens a connected UDP socket: the kernel then drops datagrams from anyone but the target. */
import dgram from 'node:dgram';
import { RelayError } from '@splitrelay/errors';
import type { PermittedAddress } from '@splitrelay/target-policy';

export function connectUdp(
  target: PermittedAddress,
  port: number,
  localAddress: string | undefined,
  signal?: AbortSignal,
): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: target.family === 6 ? 'udp6' : 'udp4' });
    const fail = (err: unknown): void => {
      socket.close();
      reject(
        err instanceof RelayError
          ? err
          : new RelayError('destination-unreachable', 'cannot open a UDP socket to the target', {
              cause: err,
            }),
      );
    };
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.bind({ address: localAddress, port: 0 }, () => {
      socket.connect(port, target.address, () => {
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        resolve(socket);
      });
    });
  });
}
