/**
 * Escaping for the renderers. Everything taken from evidence (excerpts, file names, notes)
 * is hostile: a capture can hold `</td><script>` as easily as any other bytes.
 */

const HTML: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c] as string);
}

/**
 * Markdown text that renders as exactly these characters: HTML specials and every
 * character Markdown gives meaning to (emphasis, links, code, table pipes) become numeric
 * character references, and line breaks become spaces so a table row stays one row.
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[&<>"'`|\\*_[\]()#~!{}+-]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An id attribute or fragment from our own counter-based names: letters, digits, '-'. */
export function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9-]/g, '-');
}
