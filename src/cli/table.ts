/** A column: header, and whether its cells align right (numbers). */
export interface Column {
  header: string;
  right?: boolean;
}

/** A plain-text table: header, rule, rows; columns padded to their widest cell. */
export function renderTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (columns[i].right ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** "label    value" lines with the labels padded to the widest. */
export function renderFields(fields: [string, string][], indent = ''): string {
  const w = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${indent}${`${k}:`.padEnd(w + 2)}${v}`).join('\n');
}
