/**
 * `causeway canonical`: the canonical-examples evaluation (Hewitt et al. 2024; lib/edit/
 * canonical-suite.ts) — LoRA, full fine-tuning of the layer range, ROME and MEMIT at the same
 * deviation cap ε, hyper-parameters chosen on validation facts, scores on test facts:
 *
 *   causeway canonical --model tiny-facts [--methods lora,full,rome,memit] [--epsilon 1e-3]
 *     [--val 4] [--test 8] [--steps 10] [--layers 0,1] [--seed 0] [--backend wasm] --json
 *
 * `causeway forget`: the forgetting regulariser (Song et al. 2025; lib/edit/forget.ts) on the
 * same test facts — LoRA with λ = 0 and with λ, with the cap off (the raw forgetting after all
 * steps) and at ε — general-text loss ratio and the edit's success:
 *
 *   causeway forget --model tiny-facts [--lambda 1] [--epsilon 1e-3] [--test 8] [--steps 10] --json
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { canonicalCases } from "../edit/canonical-cases";
import {
  CANONICAL_METHODS,
  type CanonicalMethod,
  type MethodSetting,
} from "../edit/canonical-methods";
import {
  runCanonicalSuite,
  runSetting,
  type SettingResult,
  type SuiteOptions,
  type SuiteResult,
  settingText,
} from "../edit/canonical-suite";
import type { EditDataset } from "../edit/dataset";
import { FORGET_DEFAULTS } from "../edit/forget";
import { choiceListFlag, intFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { ENGINE_FLAGS, runOnEngine } from "./interp-run";
import { resolveModel } from "./model-source";

type Flags = Record<string, string | boolean>;

/** The hyper-parameter grids chosen among on validation (docs/recipes.md says why these). */
export const CANONICAL_GRIDS: Record<CanonicalMethod, MethodSetting[]> = {
  lora: [0.003, 0.01, 0.03].map((lr) => ({ method: "lora" as const, lr })),
  "lora+forget": [0.3, 1, 3].map((lambda) => ({ method: "lora+forget" as const, lambda })),
  full: [1e-4, 3e-4, 1e-3].map((lr) => ({ method: "full" as const, lr })),
  rome: [{ method: "rome" }],
  memit: [{ method: "memit" }],
};

const COMMON_FLAGS = {
  ...ENGINE_FLAGS,
  epsilon: { type: "string" },
  test: { type: "string" },
  steps: { type: "string" },
  layers: { type: "string" },
  seed: { type: "string" },
  texts: { type: "string" },
} as const;

/** A positive number flag (absent → fallback). */
function posNum(flags: Flags, name: string, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number above 0, got "${v}"`);
  return n;
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

/** The settings both commands share, from the flags. */
export function suiteOptions(flags: Flags, nVal: number): Omit<SuiteOptions, "grids"> {
  return {
    epsilon: posNum(flags, "epsilon", 1e-3),
    dataset: readDataset(requireString(flags, "model")),
    texts: intFlag(flags, "texts", 100, 1, 10_000),
    steps: intFlag(flags, "steps", 10, 1, 1_000),
    layers: layerRange(flags),
    rank: 4,
    forget: FORGET_DEFAULTS,
    seed: intFlag(flags, "seed", 0, 0, 2 ** 31),
    threshold: 0.2,
    cases: { nVal, nTest: intFlag(flags, "test", 8, 1, 200) },
    onProgress: (line) => process.stderr.write(`${line}\n`),
  };
}

const machine = () => `${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} cores)`;
const f3 = (x: number) => x.toFixed(3);

/** One table row of a setting's test means. */
const row = (name: string, r: SettingResult | SuiteResult["unedited"], params?: number) => {
  const m = "mean" in r ? r.mean : r;
  return `| ${name} | ${f3(m.heldout)} | ${f3(m.ood)} | ${f3(m.neg_accuracy)} | ${f3(m.neg_dnll)} | ${m.ratio.toFixed(6)} | ${params ?? "–"} |`;
};
const HEADER = [
  "| method (setting) | held-out success | OOD success | hard-neg. accuracy | hard-neg. ΔNLL | loss ratio | params |",
  "| --- | --- | --- | --- | --- | --- | --- |",
];

export const canonicalCommand: Command = {
  name: "canonical",
  usage:
    "causeway canonical --model M [--methods lora,full,rome,memit] [--epsilon 1e-3] [--val 4] [--test 8] [--steps 10] [--layers 0,1] [--texts 100] [--seed 0] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...COMMON_FLAGS,
      methods: { type: "string" },
      val: { type: "string" },
    });
    const methods = choiceListFlag(flags, "methods", CANONICAL_METHODS) ?? [
      "lora",
      "full",
      "rome",
      "memit",
    ];
    const o = suiteOptions(flags, intFlag(flags, "val", 4, 1, 200));
    return runOnEngine(flags, async (engine) => {
      const r = await runCanonicalSuite(engine.model, engine.tokenizer, {
        ...o,
        grids: methods.map((m) => CANONICAL_GRIDS[m]),
      });
      return { model: engine.info.name, machine: machine(), epsilon: o.epsilon, ...r };
    });
  },
  format(result) {
    const r = result as SuiteResult & { model: string; machine: string; epsilon: number };
    return [
      `${r.model}: ${r.cases.val} validation / ${r.cases.test} test facts, ${r.cases.ood_per_case} OOD contexts and ${r.cases.negatives_per_case.toFixed(1)} hard negatives per fact, ε ${r.epsilon}; ${r.machine}`,
      ...HEADER,
      row("unedited", r.unedited),
      ...r.methods.map((m) => row(`${m.method} (${settingText(m.chosen)})`, m.test, m.test.params)),
    ].join("\n");
  },
};

interface ForgetRun {
  model: string;
  machine: string;
  lambda: number;
  epsilon: number;
  rows: { lambda: number; cap: "off" | number; result: SettingResult }[];
}

export const forgetCommand: Command = {
  name: "forget",
  usage:
    "causeway forget --model M [--lambda 1] [--epsilon 1e-3] [--test 8] [--steps 10] [--layers 0,1] [--texts 100] [--seed 0] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, { ...COMMON_FLAGS, lambda: { type: "string" } });
    const lambda = posNum(flags, "lambda", 1);
    const o = { ...suiteOptions(flags, 0), grids: [] };
    return runOnEngine(flags, async (engine): Promise<Omit<ForgetRun, "backend">> => {
      const { test } = canonicalCases(o.dataset, { capTexts: o.texts, ...o.cases });
      const rows: ForgetRun["rows"] = [];
      for (const cap of ["off", o.epsilon] as const) {
        for (const l of [0, lambda]) {
          const setting: MethodSetting =
            l > 0 ? { method: "lora+forget", lambda: l } : { method: "lora" };
          const eps = cap === "off" ? 1e6 : cap;
          const result = await runSetting(engine.model, engine.tokenizer, test, setting, {
            ...o,
            epsilon: eps,
          });
          o.onProgress?.(
            `λ ${l}, cap ${cap}: ratio ${result.mean.ratio.toFixed(6)}, ood ${f3(result.mean.ood)}`,
          );
          rows.push({ lambda: l, cap, result });
        }
      }
      return { model: engine.info.name, machine: machine(), lambda, epsilon: o.epsilon, rows };
    });
  },
  format(result) {
    const r = result as ForgetRun;
    return [
      `${r.model}: LoRA with and without the forgetting regulariser (λ ${r.lambda}); ${r.machine}`,
      "| λ | cap | loss ratio (mean) | held-out success | OOD success | hard-neg. accuracy | hard-neg. ΔNLL |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...r.rows.map(
        (x) =>
          `| ${x.lambda} | ${x.cap === "off" ? "off" : `ε ${x.cap}`} | ${x.result.mean.ratio.toFixed(6)} | ${f3(x.result.mean.heldout)} | ${f3(x.result.mean.ood)} | ${f3(x.result.mean.neg_accuracy)} | ${f3(x.result.mean.neg_dnll)} |`,
      ),
    ].join("\n");
  },
};
