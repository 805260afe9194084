/**
 * `causeway edit --counterfact N|A:B` / `--zsre N|A:B`: editing measured as the literature does
 * (lib/edit/eval-run.ts), one method or several compared on the same cases in one run:
 *
 *   --method rome|memit|…      the editor (default rome); --compare rome,memit,… several
 *   --batch B                  requests per batch (default 1: ROME's own evaluation)
 *   --sequential               batches applied one after another; the curve of every score
 *                              against the number of edits so far
 *   --csv FILE                 the curve (or the final scores) as CSV, one row per point,
 *                              after a first row of the unedited model's scores; rewritten
 *                              after every curve point and method
 *   --no-fluency               skip generation fluency (the costly part)
 *
 * ROME's settings: --layer, --steps, --cov, --shrinkage, --update-key, --prefixes, --params JSON.
 * MEMIT's/AlphaEdit's: --layers (the range), --hparams JSON (their hparams files' names).
 */
import { writeFileSync } from "node:fs";
import {
  COV_SOURCES,
  type CovSource,
  type EditDataset,
  type MemitHparams,
  parseEdit,
  type RomeEdit,
} from "../edit";
import { CONTEXT_DEFAULTS } from "../edit/context";
import { type EvalCase, type Suite, suiteCases } from "../edit/eval-cases";
import { METHOD_NAMES, parseMethods } from "../edit/eval-methods";
import { type CurvePoint, type EditRunResult, runEditEval, uneditedScores } from "../edit/eval-run";
import { ROME_DEFAULTS } from "../edit/rome-defaults";
import type { Engine } from "../engine";
import { type CurveRun, curveCsv, EDIT_SCORE_COLUMNS } from "../export/edit-curve";
import { EDIT_PARAMS, EDIT_RUN_PARAMS } from "../params/table";
import { intFlag, paramFlag, UsageError } from "./args";
import { parseCases } from "./edit-inputs";

type Flags = Record<string, string | boolean>;

export const EVAL_FLAGS = {
  counterfact: { type: "string" },
  zsre: { type: "string" },
  method: { type: "string" },
  compare: { type: "string" },
  batch: { type: "string" },
  sequential: { type: "boolean", default: false },
  csv: { type: "string" },
  "no-fluency": { type: "boolean", default: false },
  layer: { type: "string" },
  steps: { type: "string" },
  cov: { type: "string" },
  shrinkage: { type: "string" },
  "update-key": { type: "string" },
  prefixes: { type: "string" },
  texts: { type: "string" },
  params: { type: "string" },
  hparams: { type: "string" },
  layers: { type: "string" },
} as const;

export const EVAL_USAGE = `(--counterfact N|A:B | --zsre N|A:B) [--method ${METHOD_NAMES.join("|")} | --compare m1,m2,…] [--batch 1] [--sequential] [--csv FILE] [--no-fluency] [--layer L] [--steps ${ROME_DEFAULTS.steps}] [--cov identity|general_text|general_text+facts] [--shrinkage ${ROME_DEFAULTS.shrinkage}] [--update-key bare|mean] [--prefixes ${CONTEXT_DEFAULTS.per_length}] [--texts ${EDIT_RUN_PARAMS.texts.default}] [--params JSON] [--hparams JSON] [--layers 0,1,2]`;

/** A flag holding a JSON object, or undefined when absent. */
function jsonObject(flags: Flags, name: string): Record<string, unknown> | undefined {
  const v = flags[name];
  if (typeof v !== "string") return undefined;
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch (e) {
    throw new UsageError(`--${name} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new UsageError(`--${name} must be a JSON object`);
  }
  return o as Record<string, unknown>;
}

/** --layers 3,4,5: distinct layers of the model, ascending. */
function layerList(flags: Flags, nLayer: number): number[] | undefined {
  const v = flags.layers;
  if (typeof v !== "string") return undefined;
  const xs = v.split(",").map((x) => Number(x.trim()));
  if (
    xs.some((x) => !Number.isInteger(x) || x < 0 || x >= nLayer) ||
    new Set(xs).size !== xs.length
  ) {
    throw new UsageError(`--layers must be distinct layers from 0 to ${nLayer - 1}, got "${v}"`);
  }
  return xs.sort((a, b) => a - b);
}

/** ROME's parameters from the flags (the flags win over --params). */
export function romeOverrides(flags: Flags): Partial<RomeEdit["params"]> {
  const cov = flags.cov as string | undefined;
  if (cov !== undefined && !(COV_SOURCES as readonly string[]).includes(cov)) {
    throw new UsageError(`--cov must be one of ${COV_SOURCES.join(", ")}`);
  }
  const key = flags["update-key"] as string | undefined;
  if (key !== undefined && key !== "bare" && key !== "mean") {
    throw new UsageError("--update-key must be bare or mean");
  }
  const extra = (jsonObject(flags, "params") ?? {}) as Partial<RomeEdit["params"]>;
  const o: Partial<RomeEdit["params"]> = {
    ...extra,
    ...(flags.steps !== undefined
      ? { steps: paramFlag(flags, "steps", EDIT_PARAMS.romeSteps) }
      : {}),
    ...(cov ? { cov: cov as CovSource } : {}),
    ...(flags.shrinkage !== undefined
      ? { shrinkage: paramFlag(flags, "shrinkage", EDIT_PARAMS.shrinkage) }
      : {}),
    ...(key ? { update_key: key as "bare" | "mean" } : {}),
    ...(flags.prefixes !== undefined
      ? { context: { per_length: paramFlag(flags, "prefixes", EDIT_PARAMS.prefixes) } }
      : {}),
  };
  // checks the overrides' types and ranges on a stand-in edit
  parseEdit({
    kind: "rome",
    site: {},
    params: { prompt: "{} x", subject: "s", target_new: "t", ...o },
  });
  return o;
}

/** The suite and cases the flags name. */
export function evalCases(
  flags: Flags,
  dataset: EditDataset | undefined,
): { suite: Suite; cases: EvalCase[] } {
  const suite: Suite = flags.zsre !== undefined ? "zsre" : "counterfact";
  const spec = (flags[suite] as string) ?? "";
  const all = suiteCases(dataset, suite);
  if (all.length === 0) {
    throw new UsageError(
      suite === "zsre" ? "the dataset has no zsre cases" : "the dataset has no counterfact cases",
    );
  }
  return { suite, cases: parseCases(spec, all.length, `--${suite}`).map((i) => all[i]) };
}

export async function evalRun(
  engine: Engine,
  dataset: EditDataset | undefined,
  flags: Flags,
  log: (s: string) => void,
) {
  if (flags.counterfact !== undefined && flags.zsre !== undefined) {
    throw new UsageError("give --counterfact or --zsre, not both");
  }
  if (flags.method !== undefined && flags.compare !== undefined) {
    throw new UsageError("give --method or --compare, not both");
  }
  const layer =
    flags.layer === undefined
      ? undefined
      : intFlag(flags, "layer", 0, 0, engine.model.config.nLayer - 1);
  const romeParams = romeOverrides(flags);
  const hparams = jsonObject(flags, "hparams") as MemitHparams | undefined;
  const layers = layerList(flags, engine.model.config.nLayer);
  const editors = parseMethods(
    (flags.compare as string | undefined) ?? (flags.method as string | undefined) ?? "rome",
    { romeParams, layer, hparams, layers },
  );
  const batch = paramFlag(flags, "batch", EDIT_RUN_PARAMS.batch) as number;
  const nTexts = paramFlag(flags, "texts", EDIT_RUN_PARAMS.texts) as number;
  const { suite, cases } = evalCases(flags, dataset);
  const base = {
    model: engine.model,
    tok: engine.tokenizer,
    dataset,
    cases,
    batch,
    sequential: flags.sequential === true,
    texts: dataset?.general_text?.slice(0, nTexts),
    fluency: flags["no-fluency"] === true ? null : undefined,
  };
  log(`scoring the unedited model on ${cases.length} ${suite} cases`);
  const unedited = await uneditedScores({ ...base, editor: editors[0] });
  const runs: EditRunResult[] = [];
  // the CSV after the unedited model, after every curve point and after every method: a long
  // comparison stopped part way keeps its reference row, the methods it finished and the curve
  // of the one it was in
  const writeCsv = (current: CurveRun[] = []) => {
    if (typeof flags.csv !== "string") return;
    writeFileSync(flags.csv, curveCsv([...runs, ...current], unedited.scores));
  };
  writeCsv();
  for (const editor of editors) {
    log(
      `${editor.name}: ${cases.length} cases, batch ${batch}${base.sequential ? ", sequential" : ""}`,
    );
    const curve: CurvePoint[] = [];
    runs.push(
      await runEditEval({
        ...base,
        editor,
        unedited,
        onProgress: (p) => {
          if (p.phase === "score" && p.point) {
            curve.push(p.point);
            writeCsv([{ method: editor.name, n_cases: cases.length, curve }]);
            log(`  ${editor.name} after ${p.point.edits} edits: ${pointText(p.point)}`);
          } else if (p.phase === "score") {
            log(`  ${editor.name} batch ${p.batch + 1}/${p.batches} scored`);
          }
        },
      }),
    );
    writeCsv();
  }
  const settings = {
    layer: layer ?? null,
    rome: romeParams,
    layers: layers ?? null,
    hparams: hparams ?? null,
  };
  const one = (r: EditRunResult) => ({
    method: r.method,
    edited: r.edited,
    curve: r.curve,
    cases: r.cases,
  });
  return {
    mode: editors.length > 1 ? "compare" : suite,
    suite,
    batch,
    sequential: base.sequential,
    n_cases: cases.length,
    settings,
    unedited: unedited.scores,
    general_text_nll: unedited.nll,
    ...(editors.length > 1 ? { methods: runs.map(one) } : one(runs[0])),
    table: scoreTable(runs, unedited.scores),
  };
}

const f3 = (x: number | null | undefined) => (typeof x === "number" ? x.toFixed(3) : "–");

function pointText(p: CurvePoint): string {
  return `efficacy ${f3(p.efficacy)}, paraphrase ${f3(p.paraphrase)}, neighbourhood ${f3(p.neighborhood)}, score ${f3(p.score)}, fluency ${f3(p.fluency)}, loss ratio ${f3(p.general_text_ratio)}`;
}

const COLUMNS = EDIT_SCORE_COLUMNS;

/** The CSV of --csv (lib/export/edit-curve.ts: the app's Batch form exports the same). */
export { curveCsv };

/** A Markdown table of the final scores, one row per method, the unedited model first. */
export function scoreTable(
  runs: readonly EditRunResult[],
  unedited: EditRunResult["unedited"],
): string {
  const head = `| method | ${COLUMNS.join(" | ")} |`;
  const rule = `| --- | ${COLUMNS.map(() => "---").join(" | ")} |`;
  const row = (name: string, s: Record<string, unknown>) =>
    `| ${name} | ${COLUMNS.map((k) => f3(s[k] as number | null)).join(" | ")} |`;
  return [
    head,
    rule,
    row("unedited", { ...unedited, general_text_ratio: 1 }),
    ...runs.map((r) => row(r.method, { ...r.edited })),
  ].join("\n");
}

/** Human-readable summary for `format`. */
export function formatEval(r: Record<string, unknown>): string {
  const head = `${r.suite} cases: ${r.n_cases}, batch ${r.batch}${r.sequential ? ", sequential" : ""}`;
  return [head, String(r.table)].join("\n");
}
