/**
 * Formats generated files the way the repository's `format:check` expects (Markdown tables
 * aligned, JSON arrays folded), so a benchmark run never breaks `pnpm test`. Prettier is a
 * root dev dependency; without it the text is written as is.
 */
export async function formatLikeRepo(file: string, text: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...config, filepath: file });
  } catch {
    return text;
  }
}
