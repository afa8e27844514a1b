/**
 * The one error the lab throws. Its code says which step failed so a harness can tell "this
 * machine cannot host a lab" (fall back, or skip) from "the lab broke mid-run" (fail the audit).
 */

export type LabErrorCode =
  /** An external command (ip, nft, tcpdump...) exited non-zero or could not start. */
  | 'command-failed'
  /** A bounded step (a command, a readiness wait, a probe) ran out of time. */
  | 'timeout'
  /** The lab was asked for something it does not have: an unknown role or link. */
  | 'unknown-role'
  /** The lab was used after `destroy()`. */
  | 'destroyed'
  /** tcpdump did not start listening. */
  | 'capture-failed'
  /** The spec or the reachability matrix is not usable. */
  | 'invalid-spec';

export class LabError extends Error {
  override readonly name = 'LabError';
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isLabError(err: unknown): err is LabError {
  return err instanceof LabError;
}
