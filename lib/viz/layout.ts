/**
 * Geometry of a heatmap: a grid of cells (rows × cols) with token labels on the left, layer
 * numbers below, a title above. Canvas draws the cells at (plot.x + c·cellW, plot.y + r·cellH);
 * SVG draws axes on top in the same coordinates.
 */

export interface HeatmapLayoutInput {
  rows: number;
  cols: number;
  /** Width of the widest row label in px. */
  labelWidth: number;
  /** Width available for the whole figure. */
  maxWidth: number;
  /** Preferred cell height and the bounds of the cell width. */
  cellH?: number;
  minCellW?: number;
  maxCellW?: number;
  /** Space above the plot (title) and below it (ticks and axis label). */
  top?: number;
  bottom?: number;
  right?: number;
}

export interface HeatmapLayout {
  width: number;
  height: number;
  cellW: number;
  cellH: number;
  /** Top-left corner and size of the cell area. */
  plot: { x: number; y: number; w: number; h: number };
  rows: number;
  cols: number;
}

export function heatmapLayout(input: HeatmapLayoutInput): HeatmapLayout {
  const {
    rows,
    cols,
    labelWidth,
    maxWidth,
    cellH = 20,
    minCellW = 6,
    maxCellW = 40,
    top = 10,
    bottom = 40,
    right = 8,
  } = input;
  const left = Math.ceil(labelWidth) + 10;
  const avail = Math.max(0, maxWidth - left - right);
  const cellW = Math.max(minCellW, Math.min(maxCellW, Math.floor(avail / Math.max(1, cols))));
  const w = cellW * cols;
  const h = cellH * rows;
  return {
    width: left + w + right,
    height: top + h + bottom,
    cellW,
    cellH,
    plot: { x: left, y: top, w, h },
    rows,
    cols,
  };
}

/** The cell under (x, y) in figure coordinates, or null outside the plot. */
export function cellAt(
  layout: HeatmapLayout,
  x: number,
  y: number,
): { row: number; col: number } | null {
  const { plot, cellW, cellH, rows, cols } = layout;
  const col = Math.floor((x - plot.x) / cellW);
  const row = Math.floor((y - plot.y) / cellH);
  if (x < plot.x || y < plot.y || col < 0 || row < 0 || col >= cols || row >= rows) return null;
  return { row, col };
}

/** Approximate width of monospace text (label sizing without a DOM). */
export function monoWidth(text: string, fontPx = 12): number {
  return [...text].length * fontPx * 0.6;
}
