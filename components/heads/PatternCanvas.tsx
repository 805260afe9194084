"use client";
/**
 * One head's attention pattern as a tiny heatmap on a canvas: T × T pixels (query rows, key
 * columns) scaled up without smoothing, coloured with Blues from 0 to 1 (the scale of the
 * enlarged views and the legend); the empty upper triangle (causal) in the page's light grey.
 * A canvas, not SVG: GPT-2 small has 144 heads of up to T² cells each.
 */
import { interpolateBlues, rgb } from "d3";
import { useEffect, useRef } from "react";

/** 256 RGB steps of Blues: value v → LUT[round(v · 255)]. */
const LUT: Uint8ClampedArray = (() => {
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = rgb(interpolateBlues(i / 255));
    out.set([c.r, c.g, c.b], i * 3);
  }
  return out;
})();
const EMPTY = [241, 240, 236];

export function PatternCanvas({
  pattern,
  T,
  size,
  label,
}: {
  /** T × T, [query][key] row-major. */
  pattern: Float32Array;
  T: number;
  size: number;
  label: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx || T === 0) return;
    const img = new ImageData(T, T);
    for (let q = 0; q < T; q++) {
      for (let k = 0; k < T; k++) {
        const v = pattern[q * T + k];
        const i = Math.round(Math.min(1, Math.max(0, v)) * 255) * 3;
        const rgbv = k > q ? EMPTY : [LUT[i], LUT[i + 1], LUT[i + 2]];
        img.data.set([...rgbv, 255], (q * T + k) * 4);
      }
    }
    const px = document.createElement("canvas");
    px.width = T;
    px.height = T;
    px.getContext("2d")?.putImageData(img, 0, 0);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(size * dpr);
    canvas.height = Math.round(size * dpr);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(px, 0, 0, canvas.width, canvas.height);
  }, [pattern, T, size]);
  return (
    <canvas
      ref={ref}
      width={size}
      height={size}
      style={{ width: size, height: size }}
      role="img"
      aria-label={label}
    />
  );
}
