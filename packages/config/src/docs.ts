/**
 * Generates the configuration reference from the schemas themselves, so docs/config.md
 * cannot drift from what the loader accepts.
 */
import { z } from 'zod';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  const?: unknown;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'object';
}

function rows(s: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const required = s.required?.includes(key) && prop.default === undefined ? 'yes' : '';
    const def = prop.default !== undefined ? `\`${JSON.stringify(prop.default)}\`` : '';
    const desc = (prop.description ?? '').replace(/\n/g, ' ');
    out.push(`| \`${path}\` | ${typeOf(prop)} | ${required} | ${def} | ${desc} |`);
    if (prop.properties) rows(prop, path, out);
    if (prop.type === 'array' && prop.items?.properties) rows(prop.items, `${path}[]`, out);
  }
}

export function schemaReference(title: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = [`## ${title}`, '', '| key | type | required | default | meaning |', '|---|---|---|---|---|'];
  rows(json, '', out);
  return out.join('\n');
}
