/**
 * The harness's one error: what it could not do (start a program, wait for readiness, read
 * its settings). A leak is never an error: it is a red cell in the report.
 */
export type AuditErrorCode = 'start-failed' | 'timeout' | 'invalid-settings' | 'capture-failed';

export class AuditError extends Error {
  readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditError';
    this.code = code;
  }
}

export function isAuditError(err: unknown): err is AuditError {
  return err instanceof AuditError;
}
