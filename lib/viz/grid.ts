/**
 * Grids that fill in as rows stream from the worker: Float32Array, row-major, NaN = not yet
 * computed. Updates copy (the store keeps state immutable; grids are at most a few thousand
 * cells).
 */

/** rows × cols cells, all unfilled. */
export function emptyGrid(rows: number, cols: number): Float32Array {
  return new Float32Array(rows * cols).fill(Number.NaN);
}

/**
 * A copy of `grid` with rows `indices` set from `values` (indices.length × cols, row-major).
 * Rows outside the grid, or a values array of the wrong size, are an error.
 */
export function withRows(
  grid: Float32Array,
  cols: number,
  indices: readonly number[],
  values: ArrayLike<number>,
): Float32Array {
  const rows = grid.length / cols;
  if (values.length !== indices.length * cols) {
    throw new Error(`expected ${indices.length} × ${cols} values, got ${values.length}`);
  }
  const out = grid.slice();
  indices.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= rows)
      throw new Error(`row ${r} outside 0…${rows - 1}`);
    for (let c = 0; c < cols; c++) out[r * cols + c] = values[i * cols + c];
  });
  return out;
}

/** Cells that hold a number. */
export function countFilled(grid: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < grid.length; i++) if (!Number.isNaN(grid[i])) n++;
  return n;
}

/** [row][col] with null for unfilled cells: the JSON the e2e test reads from the page. */
export function gridToRows(grid: ArrayLike<number>, cols: number): (number | null)[][] {
  const rows = Math.floor(grid.length / cols);
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      const v = grid[r * cols + c];
      return Number.isNaN(v) ? null : v;
    }),
  );
}

/** The cell with the largest value: [row, col, value], or null when nothing is filled. */
export function argMax(grid: ArrayLike<number>, cols: number): [number, number, number] | null {
  let best = -1;
  for (let i = 0; i < grid.length; i++) {
    if (!Number.isNaN(grid[i]) && (best < 0 || grid[i] > grid[best])) best = i;
  }
  return best < 0 ? null : [Math.floor(best / cols), best % cols, grid[best]];
}
