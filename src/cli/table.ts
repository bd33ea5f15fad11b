/** Plain-text tables and times for the operator commands. */

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `2026-01-02 03:04:05Z`: UTC, to the second. */
export function utc(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + 'Z';
}

/** Strips control characters (a user agent or name from the store must not move the terminal's cursor). */
export function printable(value: string | undefined, max = 64): string {
  if (!value) return '-';
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
