/**
 * One way to read configuration: a strict zod schema, parsed once, every problem reported
 * together, and the result deep-frozen so no module can change it behind another's back.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

// Homomorphic mapping keeps tuples as tuples (a port range stays `[from, to]`).
export type DeepReadonly<T> = T extends readonly unknown[]
  ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
  : T extends Map<infer K, infer V>
    ? ReadonlyMap<K, DeepReadonly<V>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value as DeepReadonly<T>;
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${where}: ${issue.message}`;
  });
}

export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  source = 'config',
): DeepReadonly<z.output<S>> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ConfigError(source, problemsOf(result.error));
  return deepFreeze(result.data);
}

export async function loadConfigFile<S extends z.ZodType>(
  schema: S,
  path: string,
): Promise<DeepReadonly<z.output<S>>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read file: ${(err as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseConfig(schema, json, path);
}
