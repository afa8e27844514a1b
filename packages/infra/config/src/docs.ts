/**
 * Generates the configuration reference from the schemas themselves, so docs/config.md
 * cannot drift from what the loader accepts.
 *
 * It works on zod's JSON Schema (input side, so a key with a default is not required) and
 * prints one row per key, nested keys as dotted paths (`a.b`, `list[].c`, `map.<name>`).
 * Types read like TypeScript, with the schema's bounds in parentheses:
 *   `integer (1–65535)`, `string (non-empty)`, `(integer | [integer, integer])[]`.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}

const variantsOf = (s: JsonSchema): JsonSchema[] | undefined => s.anyOf ?? s.oneOf;

function isObject(s: JsonSchema): boolean {
  return s.type === 'object' || s.properties !== undefined;
}

function range(low: string | undefined, high: string | undefined, unit = ''): string | undefined {
  if (low !== undefined && high !== undefined) {
    return low === high ? `exactly ${low}${unit}` : `${low}–${high}${unit}`;
  }
  if (low !== undefined) return `≥ ${low}${unit}`;
  if (high !== undefined) return `≤ ${high}${unit}`;
  return undefined;
}

const str = (n: number | undefined): string | undefined =>
  n === undefined ? undefined : String(n);

/** zod gives every integer the safe-integer bounds; they say nothing to an operator. */
const bound = (n: number | undefined): string | undefined =>
  n === undefined || Math.abs(n) === Number.MAX_SAFE_INTEGER ? undefined : String(n);

/** The schema's own bounds, in words short enough for a table cell. */
function bounds(s: JsonSchema): string[] {
  const out: string[] = [];
  const numeric = range(bound(s.minimum), bound(s.maximum));
  if (numeric !== undefined) out.push(numeric);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.exclusiveMaximum !== undefined) out.push(`< ${s.exclusiveMaximum}`);
  if (s.multipleOf !== undefined) out.push(`multiple of ${s.multipleOf}`);
  if (s.minLength === 1 && s.maxLength === undefined) out.push('non-empty');
  else {
    const length = range(str(s.minLength), str(s.maxLength), ' chars');
    if (length !== undefined) out.push(length);
  }
  // A tuple's item count is its shape, already shown by `[a, b]`.
  if (s.prefixItems === undefined) {
    const count = range(str(s.minItems), str(s.maxItems), ' items');
    if (count !== undefined) out.push(count === '≥ 1 items' ? 'non-empty' : count);
  }
  // A format's pattern is zod's implementation of it: the name says more.
  if (s.format !== undefined) out.push(s.format);
  else if (s.pattern !== undefined) out.push(`matches \`${s.pattern}\``);
  return out;
}

/** The type without bounds; unions inside arrays get parentheses so `[]` binds right. */
function bareType(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const variants = variantsOf(s);
  if (variants) return [...new Set(variants.map(typeOf))].join(' | ');
  if (s.$ref !== undefined) return `see ${s.$ref.replace(/^#\/(?:\$defs|definitions)\//, '')}`;
  if (s.prefixItems !== undefined) {
    const parts = s.prefixItems.map(typeOf);
    if (s.items) parts.push(`...${arrayOf(s.items)}`);
    return `[${parts.join(', ')}]`;
  }
  if (s.type === 'array') return s.items ? arrayOf(s.items) : 'any[]';
  if (Array.isArray(s.type)) return s.type.join(' | ');
  if (
    s.properties === undefined &&
    typeof s.additionalProperties === 'object' &&
    s.type === 'object'
  ) {
    return `{ [name: string]: ${typeOf(s.additionalProperties)} }`;
  }
  return s.type ?? (isObject(s) ? 'object' : 'any');
}

function arrayOf(items: JsonSchema): string {
  const inner = typeOf(items);
  return inner.includes(' | ') || inner.includes(' (') ? `(${inner})[]` : `${inner}[]`;
}

function typeOf(s: JsonSchema): string {
  const base = bareType(s);
  const b = bounds(s);
  return b.length === 0 ? base : `${base} (${b.join(', ')})`;
}

/** What an object is when every key takes its own default (absent keys without one stay absent). */
function fieldDefaults(s: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (prop.default !== undefined) out[key] = prop.default;
  }
  return out;
}

/**
 * An object's default is usually just "each field's default"; printing it as JSON would
 * repeat the rows below it, and worse, read as a second source of truth.
 */
function defaultCell(s: JsonSchema): string {
  if (s.default === undefined) return '';
  if (s.properties !== undefined && isDeepStrictEqual(s.default, fieldDefaults(s))) {
    return "fields' defaults";
  }
  return `\`${JSON.stringify(s.default)}\``;
}

/** Markdown table cells split on `|` before anything else, code spans included. */
const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

/** For one variant of a union of objects: the key and value that select it, if any. */
function discriminator(s: JsonSchema): string | undefined {
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const value = prop.const ?? (prop.enum?.length === 1 ? prop.enum[0] : undefined);
    if (value !== undefined) return `${key} = ${JSON.stringify(value)}`;
  }
  return undefined;
}

const join = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);

/** Rows for whatever sits inside `s` (object keys, array items, map values, object variants). */
function nested(s: JsonSchema, path: string, when: string, out: string[]): void {
  if (s.properties) rows(s, path, when, out);
  if (typeof s.additionalProperties === 'object' && isObject(s)) {
    nested(s.additionalProperties, join(path, '<name>'), when, out);
  }
  if (s.type === 'array' && s.items) nested(s.items, `${path}[]`, when, out);
  const variants = variantsOf(s);
  if (variants) {
    variants.forEach((v, i) => {
      if (!isObject(v)) return;
      const selector = discriminator(v);
      const label = selector === undefined ? `variant ${i + 1}` : `\`${join(path, selector)}\``;
      nested(v, path, when === '' ? label : `${when}, ${label}`, out);
    });
  }
}

function rows(s: JsonSchema, prefix: string, when: string, out: string[]): void {
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const path = join(prefix, key);
    const required = s.required?.includes(key) && prop.default === undefined ? 'yes' : '';
    const meaning = [when === '' ? '' : `(${when})`, prop.description ?? '']
      .filter((t) => t !== '')
      .join(' ');
    out.push(
      `| \`${cell(path)}\` | ${cell(typeOf(prop))} | ${required} | ${cell(defaultCell(prop))} | ${cell(meaning)} |`,
    );
    nested(prop, path, when, out);
  }
}

/**
 * One Markdown section: `## title`, the schema's description if it has one, and a table of
 * every key. "required: yes" means the key must be present whenever its parent is.
 */
export function schemaReference(title: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = [`## ${title}`, ''];
  if (json.description) out.push(json.description.replace(/\r?\n/g, ' '), '');
  out.push('| key | type | required | default | meaning |', '|---|---|---|---|---|');
  nested(json, '', '', out);
  return out.join('\n');
}
