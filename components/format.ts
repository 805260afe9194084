/** Small display helpers shared by the components. */

export { visibleToken } from "@/lib/viz/format";

/** 0.4213 → "42.13%"; anything under 0.01 % reads "<0.01%" (the exact value goes in a tooltip). */
export function percent(p: number): string {
  const v = p * 100;
  if (v > 0 && v < 0.01) return "<0.01%";
  return `${v.toFixed(2)}%`;
}

/** A probability to full precision for tooltips: 0.93561 → "0.93561", 2.3e-17 → "2.30e-17". */
export function exactProb(p: number): string {
  return p !== 0 && p < 1e-4 ? p.toExponential(2) : p.toPrecision(5);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** 1234567 → "1.23M". */
export function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
