/** The largest computed cell of a row-major grid (NaN cells are not yet computed). */
export interface Peak {
  value: number;
  row: number;
  col: number;
}

/** null when no cell holds a number. */
export function peakCell(values: ArrayLike<number>, cols: number): Peak | null {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v) && (best < 0 || v > values[best])) best = i;
  }
  if (best < 0 || cols <= 0) return null;
  return { value: values[best], row: Math.floor(best / cols), col: best % cols };
}
