/**
 * Finding token sequences in a pass's input ids: the lookup of SWEA (Li et al. 2024,
 * xpq-tech/SWEA SWEAOS/SWEA.py hook_fn), which adds learned offsets to the embeddings of a
 * subject's tokens wherever the subject's token sequence occurs in the input.
 *
 * Each row is scanned left to right; at every position the longest key that starts there wins
 * (ties: the key listed first), and the scan resumes after it, so occurrences never overlap.
 * SWEA's own hook adds only at the one longest match of a row; here every occurrence gets its
 * offsets (a subject named twice is edited twice; docs/edits.md "SWEA").
 */

export interface TokenSpan {
  /** Index of the key in the list. */
  key: number;
  row: number;
  /** First position (within the row as given). */
  start: number;
}

/** Every non-overlapping occurrence of the keys in each row, leftmost-longest first. */
export function matchSpans(
  ids: readonly (readonly number[])[],
  keys: readonly (readonly number[])[],
): TokenSpan[] {
  const out: TokenSpan[] = [];
  ids.forEach((row, r) => {
    let t = 0;
    while (t < row.length) {
      let best = -1;
      keys.forEach((k, i) => {
        if (k.length === 0 || t + k.length > row.length) return;
        if (best >= 0 && k.length <= keys[best].length) return;
        for (let j = 0; j < k.length; j++) if (row[t + j] !== k[j]) return;
        best = i;
      });
      if (best < 0) t++;
      else {
        out.push({ key: best, row: r, start: t });
        t += keys[best].length;
      }
    }
  });
  return out;
}

/**
 * The one-hot selector [B·T, N] that places the keys' value rows (key i's P_i rows, stacked in
 * key order: N = Σ P_i) on the positions of every occurrence: S @ values [N, F] is the [B·T, F]
 * offset to add. count: how many occurrences were found.
 */
export function matchSelector(
  ids: readonly (readonly number[])[],
  keys: readonly (readonly number[])[],
): { sel: Float32Array; N: number; count: number } {
  const T = ids[0]?.length ?? 0;
  const first: number[] = [];
  let N = 0;
  for (const k of keys) {
    first.push(N);
    N += k.length;
  }
  const sel = new Float32Array(ids.length * T * N);
  const spans = matchSpans(ids, keys);
  for (const s of spans) {
    for (let j = 0; j < keys[s.key].length; j++) {
      sel[(s.row * T + s.start + j) * N + first[s.key] + j] = 1;
    }
  }
  return { sel, N, count: spans.length };
}
