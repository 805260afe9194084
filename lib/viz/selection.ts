/** Choosing the subject on the token strip: click one token, or drag over several. */

/** The end-exclusive range between two token indices, in either order. */
export function spanBetween(a: number, b: number): [number, number] {
  return a <= b ? [a, b + 1] : [b, a + 1];
}

/** Whether token i lies inside [b, e). */
export function inRange(range: readonly [number, number] | null, i: number): boolean {
  return range !== null && i >= range[0] && i < range[1];
}

/** The subject's text from the token texts of its range (what the subject box shows). */
export function rangeToText(tokens: readonly string[], [b, e]: [number, number]): string {
  return tokens.slice(b, e).join("").trim();
}
