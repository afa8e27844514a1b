/**
 * The bench target's request, sent by the client as the first bytes of a flow (inside TLS on
 * the TLS port):
 *
 *   +----+--------------------+
 *   | OP |  SIZE (uint64, BE) |
 *   +----+--------------------+
 *   | 1  |         8          |
 *   +----+--------------------+
 *   OP 'D': the target sends SIZE bytes, then closes.
 *   OP 'U': the client sends SIZE bytes; the target answers one byte 'K' once all arrived.
 *
 * The hold port (plain TCP) echoes the first byte and then keeps the flow open and idle.
 */
export const REQUEST_BYTES = 9;
export type TargetOp = 'D' | 'U';

export function encodeTargetRequest(op: TargetOp, size: number): Buffer {
  const out = Buffer.alloc(REQUEST_BYTES);
  out[0] = op.charCodeAt(0);
  out.writeBigUInt64BE(BigInt(size), 1);
  return out;
}

export function decodeTargetRequest(buf: Buffer): { op: TargetOp; size: number } | undefined {
  if (buf.length < REQUEST_BYTES) return undefined;
  const op = String.fromCharCode(buf[0] as number);
  if (op !== 'D' && op !== 'U') throw new Error(`unknown op ${op}`);
  return { op, size: Number(buf.readBigUInt64BE(1)) };
}

export const UPLOAD_ACK = 0x4b; // 'K'
