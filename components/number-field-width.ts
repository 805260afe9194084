/**
 * How wide a NumberField must be to show the widest value its setting allows (lib/params/table.ts
 * max, and min when it is wider, e.g. a negative bound), with the step's decimals for a
 * fractional setting: so "200" of at most 1000 samples is never shown as "20(". In `ch` of the
 * input's monospace font, plus the input's padding and border (16 + 2 px, app/globals.css
 * .numfield input) and Chromium's spin buttons (~16 px).
 */
import type { NumParam } from "@/lib/params/schema";

/** Past this many characters a value is still typed, it scrolls (uint32 seeds: 10). */
const MAX_CHARS = 12;
const CHROME_PX = 16 + 2 + 16;

/** Characters of the widest value of `p` typed in steps of `step`. */
export function widestChars(p: NumParam, step: number): number {
  const decimals = p.integer ? 0 : decimalsOf(step);
  const whole = (n: number) => String(Math.trunc(n)).length;
  const withStep = (n: number) => whole(n) + (decimals > 0 ? 1 + decimals : 0);
  const chars = Math.max(withStep(p.max), withStep(p.min), String(p.max).length);
  return Math.min(chars, MAX_CHARS);
}

/** The CSS width that shows every value of `p` in full. */
export function fitWidth(p: NumParam, step: number): string {
  return `calc(${widestChars(p, step)}ch + ${CHROME_PX}px)`;
}

/** 0.001 → 3, 0.5 → 1, 1 → 0, 1e-6 → 6. */
function decimalsOf(step: number): number {
  const [mantissa, exp] = step.toExponential().split("e");
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exp));
}
