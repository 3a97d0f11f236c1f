/**
 * A value as JavaScript source: what JSON cannot say (NaN, Infinity, -0,
 * undefined) included, so a fuzzed scenario file holds exactly the value the
 * generator made. Strings are JSON-quoted (newlines and all, escaped).
 */
export function jsLiteral(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsLiteral).join(', ')}]`;
  // A computed key: a literal "__proto__": x would set the prototype, not a key named so.
  if (typeof v === 'object') return `{ ${Object.entries(v as object).map(([k, x]) => `[${JSON.stringify(k)}]: ${jsLiteral(x)}`).join(', ')} }`;
  throw new Error(`jsLiteral: cannot write a ${typeof v}`);
}
