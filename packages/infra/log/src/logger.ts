/**
 * The one logger factory. A RoleLogger takes an event name and a record of the role's own
 * fields; errors are logged by code and details only, never by message or stack of
 * something that came off the wire.
 */
import pino from 'pino';
import type { DestinationStream, Level } from 'pino';
import { allowedFields, type FieldsOf, type Role } from './fields.ts';

export type LogLevel = Level | 'silent';

export interface RoleLogger<R extends Role> {
  readonly role: R;
  info(event: string, fields?: FieldsOf[R]): void;
  warn(event: string, fields?: FieldsOf[R]): void;
  error(event: string, fields?: FieldsOf[R]): void;
  debug(event: string, fields?: FieldsOf[R]): void;
  /** Number of fields dropped because the role may not write them (should stay 0). */
  readonly dropped: number;
  flush(): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go; defaults to stdout. Tests pass a capturing stream. */
  destination?: DestinationStream;
  name?: string;
}

type Primitive = string | number | boolean;

export function createLogger<R extends Role>(role: R, options: LoggerOptions = {}): RoleLogger<R> {
  const allowed: Readonly<Record<string, true>> = allowedFields[role];
  const base = pino(
    {
      level: options.level ?? 'info',
      base: { role, ...(options.name ? { name: options.name } : {}) },
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  let dropped = 0;

  const clean = (fields: object | undefined): Record<string, Primitive> => {
    const out: Record<string, Primitive> = {};
    if (!fields) return out;
    for (const [key, value] of Object.entries(fields)) {
      const ok =
        allowed[key] === true &&
        (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean');
      if (ok) out[key] = value;
      else if (value !== undefined) dropped++;
    }
    return out;
  };

  return {
    role,
    info: (event, fields) => base.info(clean(fields), event),
    warn: (event, fields) => base.warn(clean(fields), event),
    error: (event, fields) => base.error(clean(fields), event),
    debug: (event, fields) => base.debug(clean(fields), event),
    get dropped() {
      return dropped;
    },
    flush: () => base.flush(),
  };
}
