/** Levenshtein distance between two strings (case-insensitive). */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The known names closest to `input`: those at the smallest edit distance,
 * if it is small enough to be a typo (at most 3, or half the input), plus any
 * name containing the input or contained in it.
 */
export function closest(input: string, known: readonly string[], max = 3): string[] {
  const scored = known.map((k) => ({ k, d: editDistance(input, k) }));
  const limit = Math.max(max, Math.ceil(input.length / 2));
  const best = Math.min(...scored.map((s) => s.d));
  const near = scored.filter((s) => s.d <= limit && s.d === best).map((s) => s.k);
  const lower = input.toLowerCase();
  const sub = input.length >= 2 ? known.filter((k) => k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase())) : [];
  return [...new Set([...near, ...sub])].slice(0, 4);
}

/** "unknown X 'y' (did you mean 'z'?; known: ...)" */
export function unknownNameMessage(what: string, input: string, known: readonly string[]): string {
  // An empty name is near nothing: name the choices, suggest none.
  if (input.trim() === '') return `empty ${what} name (known: ${known.join(', ')})`;
  const near = closest(input, known);
  const hint = near.length ? `did you mean ${near.map((n) => `'${n}'`).join(' or ')}? ` : '';
  return `unknown ${what} '${input}' (${hint}known: ${known.join(', ')})`;
}
