/**
 * What `causeway canonical` and `causeway forget` share (lib/cli/canonical.ts, forget.ts): the
 * flags of the evaluation (ε, facts, steps, layers, texts, seed), the model's dataset.json, and
 * the machine line printed with the numbers.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Spread } from "../edit/canonical-stats";
import type { SettingResult, SuiteOptions } from "../edit/canonical-suite";
import type { EditDataset } from "../edit/dataset";
import { FORGET_DEFAULTS } from "../edit/forget";
import { intFlag, requireString, UsageError } from "./args";
import { ENGINE_FLAGS } from "./interp-run";
import { resolveModel } from "./model-source";

export type Flags = Record<string, string | boolean>;

/** Validation and test facts by default (5 validation, 20 test; docs/recipes.md). */
export const DEFAULT_VAL = 5;
export const DEFAULT_TEST = 20;
/** Adam steps by default: enough for the cap to bind at the chosen rates (docs/recipes.md). */
export const DEFAULT_STEPS = 20;

export const COMMON_FLAGS = {
  ...ENGINE_FLAGS,
  epsilon: { type: "string" },
  val: { type: "string" },
  test: { type: "string" },
  steps: { type: "string" },
  layers: { type: "string" },
  seed: { type: "string" },
  texts: { type: "string" },
} as const;

/** A positive number flag (absent → fallback). */
export function posNum(flags: Flags, name: string, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number above 0, got "${v}"`);
  return n;
}

/** A comma-separated list of positive numbers (absent → fallback). */
export function posList(flags: Flags, name: string, fallback: number[]): number[] {
  const v = flags[name];
  if (v === undefined) return fallback;
  const xs = String(v)
    .split(",")
    .map((x) => (x.trim() === "" ? Number.NaN : Number(x)));
  if (xs.length === 0 || !xs.every((x) => x > 0 && Number.isFinite(x)))
    throw new UsageError(`--${name} takes numbers above 0 separated by commas, got "${v}"`);
  return xs;
}

/** --layers A,B: the contiguous range first…last. */
function layerRange(flags: Flags): [number, number] {
  const v = flags.layers;
  if (v === undefined) return [0, 1];
  const xs = String(v)
    .split(",")
    .map((x) => Number(x.trim()));
  if (xs.length !== 2 || !xs.every((x) => Number.isInteger(x) && x >= 0) || xs[0] > xs[1])
    throw new UsageError(`--layers must be FIRST,LAST (0 ≤ FIRST ≤ LAST), got "${v}"`);
  return [xs[0], xs[1]];
}

function readDataset(model: string): EditDataset {
  const { dir } = resolveModel(model);
  try {
    return JSON.parse(readFileSync(path.join(dir, "dataset.json"), "utf8")) as EditDataset;
  } catch (err) {
    throw new UsageError(`${dir}/dataset.json: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** The settings both commands share, from the flags (`nVal` when --val is absent). */
export function suiteOptions(flags: Flags, nVal = DEFAULT_VAL): Omit<SuiteOptions, "grids"> {
  return {
    epsilon: posNum(flags, "epsilon", 1e-3),
    dataset: readDataset(requireString(flags, "model")),
    texts: intFlag(flags, "texts", 100, 1, 10_000),
    steps: intFlag(flags, "steps", DEFAULT_STEPS, 1, 1_000),
    layers: layerRange(flags),
    rank: 4,
    forget: FORGET_DEFAULTS,
    seed: intFlag(flags, "seed", 0, 0, 2 ** 31),
    threshold: 0.2,
    cases: {
      nVal: intFlag(flags, "val", nVal, 0, 200),
      nTest: intFlag(flags, "test", DEFAULT_TEST, 1, 200),
    },
    onProgress: (line) => process.stderr.write(`${line}\n`),
    // a long run killed before its end keeps every finished setting in its log
    onResult: (phase, r) => process.stderr.write(`#result ${phase} ${JSON.stringify(r)}\n`),
  };
}

/** The CPU and the load when the numbers were measured. */
export const machine = () =>
  `${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} cores, load ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")})`;

/** "0.450 ± 0.112" (mean ± per-fact standard error). */
export const pm = (s: Spread, digits = 3) => `${s.mean.toFixed(digits)} ± ${s.se.toFixed(digits)}`;

export const f3 = (x: number) => x.toFixed(3);

/** Kept step / steps and how many facts used up the cap (trained methods), or ROME's / MEMIT's α. */
export const trainingText = (r: SettingResult) => {
  const t = r.training;
  if (!t) {
    if (r.alphas.length === 0) return "–";
    const scaled = r.alphas.filter((a) => a < 1).length;
    const mean = r.alphas.reduce((a, b) => a + b, 0) / r.alphas.length;
    return `α < 1 on ${scaled}/${r.alphas.length} (mean α ${mean.toFixed(2)})`;
  }
  const kept = t.kept.reduce((a, b) => a + b, 0) / t.kept.length;
  return `kept ${kept.toFixed(1)}/${t.steps}, cap bound ${t.bound}/${t.kept.length}`;
};

/** One table row: means ± standard errors. */
export const scoreRow = (
  name: string,
  r: Pick<SettingResult, "spread" | "mean">,
  extra: string[],
) =>
  `| ${name} | ${pm(r.spread.heldout)} | ${pm(r.spread.ood)} | ${pm(r.spread.neg_accuracy)} | ${pm(r.spread.neg_dnll)} | ${r.mean.ratio.toFixed(6)} | ${extra.join(" | ")} |`;

export const SCORE_HEADER =
  "| held-out success | OOD success | hard-neg. accuracy | hard-neg. ΔNLL | loss ratio";

/** "+0.150 [0.050, 0.250]": a paired difference and its 95% bootstrap interval. */
export const diffCell = (d: { mean: number; lo: number; hi: number }, digits = 3) =>
  `${d.mean >= 0 ? "+" : ""}${d.mean.toFixed(digits)} [${d.lo.toFixed(digits)}, ${d.hi.toFixed(digits)}]`;
