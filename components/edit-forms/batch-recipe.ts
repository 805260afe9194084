/**
 * The Batch form's checks, apart from React so they can be unit tested: pasted rewrites (JSON
 * or JSONL in ROME's fields, or CounterFact cases) become CounterFact cases; the layer range
 * defaults from the causal trace's MLP peak; the draft becomes a batchEdit run (lib/batch-jobs.ts)
 * or the first thing wrong with it. No tfjs here (the page bundle imports it).
 */
import type { BatchCases, BatchRunResult, BatchRunSpec } from "../../lib/batch-jobs";
import { type CounterFactCase, parseEditDataset } from "../../lib/edit/dataset";
import type { ZsreRecord } from "../../lib/edit/eval-zsre";
import { isObj } from "../../lib/edit/parse-checker";
import { COV_SOURCES, type CovSource } from "../../lib/edit/types";
import { curveCsv } from "../../lib/export/edit-curve";
import { importDatasetJson } from "../../lib/load/dataset-import";
import { inRange, paramError } from "../../lib/params/schema";
import { EDIT_PARAMS, EDIT_RUN_PARAMS } from "../../lib/params/table";
import type { TraceResultState } from "../../lib/store";
import { romeTemplate } from "./rome-recipe";
import { defaultSweaSettings, type SweaSettings, sweaSettingsHparams } from "./swea-recipe";

export type RewriteSource = "model" | "paste" | "file";

/** Rewrites brought by a file (./DatasetImport.tsx). */
export type ImportedRewrites =
  | { name: string; suite: "counterfact"; counterfact: CounterFactCase[] }
  | { name: string; suite: "zsre"; zsre: ZsreRecord[] };

export interface BatchDraft {
  source: RewriteSource;
  suite: "counterfact" | "zsre";
  start: number | null;
  count: number | null;
  pasted: string;
  /** A base method ("memit"); BLUE adds "+blue". */
  method: string;
  blue: boolean;
  /** "3,4,5" or "3-5"; blank: the default range. */
  layers: string;
  batch: number | null;
  sequential: boolean;
  /** Blank: the method's default. */
  steps: number | null;
  cov: CovSource;
  fluency: boolean;
  cacheStats: boolean;
  /** SWEA's settings (method "swea": no layers, no C; its steps are here). Default: SWEA's. */
  swea?: SweaSettings;
}

export interface BatchContext {
  nLayer: number | null;
  /** The model has a dataset.json (cases, general text, facts). */
  hasDataset: boolean;
  imported: ImportedRewrites | null;
  corpus: { name: string; texts: string[] } | null;
  /** Methods the worker has (with "+blue" variants). */
  methods: readonly string[];
}

/**
 * Pasted rewrites as CounterFact cases: a JSON list or JSONL of ROME's fields (prompt with "{}"
 * or the subject in it, subject, target_new, target_true), or CounterFact cases as they are.
 * Throws an Error naming the item or line.
 */
export function parseRewrites(text: string): CounterFactCase[] {
  const src = "the pasted rewrites";
  const t = text.trim();
  if (t === "") throw new Error("Paste some rewrites: a JSON list or one JSON object a line.");
  let items: [string, unknown][];
  if (t.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch (e) {
      throw new Error(`${src} are not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(json)) throw new Error(`${src} must be a JSON list`);
    if (isObj(json[0]) && "requested_rewrite" in json[0]) {
      return importDatasetJson(src, t).data.counterfact ?? [];
    }
    items = json.map((x, i) => [`item ${i + 1}`, x]);
  } else {
    items = t
      .split("\n")
      .map((l, i) => [l.trim(), i + 1] as const)
      .filter(([l]) => l !== "")
      .map(([l, n]) => {
        try {
          return [`line ${n}`, JSON.parse(l)];
        } catch {
          throw new Error(`${src}: line ${n} is not JSON (one {"prompt", "subject", …} a line)`);
        }
      });
  }
  const cases = items.map(([where, x], i) => rewriteCase(where, x, i));
  return parseEditDataset({ counterfact: cases }, src).counterfact ?? [];
}

function rewriteCase(where: string, x: unknown, i: number): CounterFactCase {
  const str = (k: string) => (isObj(x) && typeof x[k] === "string" ? (x[k] as string).trim() : "");
  if (!isObj(x)) throw new Error(`${where} is not an object with prompt, subject, target_new`);
  const subject = str("subject");
  const raw = str("prompt");
  const prompt = raw.includes("{}") ? raw : romeTemplate(raw, subject);
  if (subject === "") throw new Error(`${where}: no subject`);
  if (prompt === null) throw new Error(`${where}: the subject "${subject}" is not in its prompt`);
  for (const k of ["target_new", "target_true"]) {
    if (str(k) === "") {
      throw new Error(
        `${where}: no ${k}${k === "target_true" ? " (the old object: efficacy compares the two)" : ""}`,
      );
    }
  }
  return {
    case_id: typeof x.case_id === "number" ? x.case_id : i,
    requested_rewrite: {
      prompt,
      subject,
      target_new: { str: str("target_new") },
      target_true: { str: str("target_true") },
    },
    paraphrase_prompts: [],
    neighborhood_prompts: [],
  };
}

/** The layer where the MLP trace peaks at the subject's last token (any token without one). */
export function mlpPeak(trace: TraceResultState | null): number | null {
  const g = trace?.grids.mlp;
  if (!g || g.filled === 0) return null;
  const rows = trace?.subject
    ? [trace.subject[1] - 1]
    : Array.from({ length: g.rows }, (_, r) => r);
  let best: [number, number] | null = null;
  for (const r of rows) {
    for (let c = 0; c < g.cols; c++) {
      const v = g.values[r * g.cols + c];
      if (Number.isFinite(v) && (best === null || v > best[0])) best = [v, c];
    }
  }
  return best ? best[1] : null;
}

/**
 * The range ending at the MLP peak, as wide as lib/edit/memit-params.ts defaultMemitLayers makes
 * it (GPT-2 XL's 5 of 48 layers scaled to depth, at least 2); ROME: the peak alone.
 */
export function rangeAtPeak(nLayer: number, peak: number, method: string): number[] {
  if (method === "rome") return [peak];
  const n = Math.min(nLayer, Math.max(2, Math.round((5 * nLayer) / 48)));
  const end = Math.max(n - 1, peak);
  return Array.from({ length: n }, (_, i) => end - n + 1 + i);
}

/** "3,4,5" or "3-5" as ascending distinct layers, or an error. */
export function parseLayers(text: string, nLayer: number): number[] | string {
  const t = text.trim();
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(t);
  const xs = m
    ? Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i)
    : t.split(",").map((x) => Number(x.trim()));
  const ok =
    xs.length > 0 &&
    xs.every((l, i) => Number.isInteger(l) && l >= 0 && l < nLayer && (i === 0 || l > xs[i - 1]));
  return ok
    ? xs
    : `The layers must be ascending whole numbers from 0 to ${nLayer - 1} (e.g. 1,2 or 1-3).`;
}

/** The run the draft asks for, or the first thing wrong with it. */
export function batchSpec(
  d: BatchDraft,
  x: BatchContext,
): { spec: BatchRunSpec } | { error: string } {
  const method = d.blue ? `${d.method}+blue` : d.method;
  if (!x.methods.includes(method)) {
    return { error: `${method} is not available (this build has ${x.methods.join(", ")}).` };
  }
  let cases: BatchCases;
  if (d.source === "model") {
    if (!x.hasDataset)
      return { error: "This model has no dataset: paste rewrites or bring a file." };
    if (d.start === null || !Number.isInteger(d.start) || d.start < 0) {
      return { error: "The first case must be a whole number ≥ 0." };
    }
    if (d.count === null || !Number.isInteger(d.count) || d.count < 1) {
      return { error: "Give how many cases to edit (≥ 1)." };
    }
    cases = { from: "model", suite: d.suite, start: d.start, count: d.count };
  } else if (d.source === "paste") {
    try {
      cases = { from: "given", suite: "counterfact", counterfact: parseRewrites(d.pasted) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  } else {
    if (!x.imported) return { error: "Choose, drop or fetch a CounterFact or zsRE file first." };
    cases =
      x.imported.suite === "counterfact"
        ? { from: "given", suite: "counterfact", counterfact: x.imported.counterfact }
        : { from: "given", suite: "zsre", zsre: x.imported.zsre };
  }
  const batchErr = paramError(EDIT_RUN_PARAMS.batch, d.batch);
  if (batchErr) return { error: `${batchErr}.` };
  const common = {
    method,
    cases,
    batch: d.batch as number,
    sequential: d.sequential,
    fluency: d.fluency,
    texts: EDIT_RUN_PARAMS.texts.default ?? 0,
    ...(x.corpus ? { corpus: x.corpus.texts } : {}),
  };
  if (d.method === "swea") {
    // SWEA edits no layer and reads no C: its own settings, C's choice left out of the run
    const h = sweaSettingsHparams(d.swea ?? defaultSweaSettings());
    if ("error" in h) return h;
    const { v_num_grad_steps: steps, ...hparams } = h.hparams;
    return { spec: { ...common, cov: "identity", steps, hparams, cacheStats: false } };
  }
  if (d.steps !== null && !inRange(EDIT_PARAMS.romeSteps, d.steps)) {
    return { error: `${paramError(EDIT_PARAMS.romeSteps, d.steps)}.` };
  }
  let layers: number[] | undefined;
  if (d.layers.trim() !== "" && x.nLayer !== null) {
    const l = parseLayers(d.layers, x.nLayer);
    if (typeof l === "string") return { error: l };
    layers = l;
  }
  if (!COV_SOURCES.includes(d.cov)) return { error: `Unknown C source ${d.cov}.` };
  if (d.cov !== "identity" && !x.hasDataset && !x.corpus) {
    return { error: "C needs a corpus: bring a text file, or choose C = identity." };
  }
  if (d.cov === "general_text+facts" && !x.hasDataset) {
    return { error: "“corpus + facts” needs the model's known facts: choose “corpus”." };
  }
  return {
    spec: {
      ...common,
      ...(layers ? { layers } : {}),
      cov: d.cov,
      ...(d.steps !== null ? { steps: d.steps } : {}),
      cacheStats: d.cacheStats,
    },
  };
}

/** The run as `causeway edit --counterfact … --json` prints one method's run. */
export function batchJson(spec: BatchRunSpec, r: BatchRunResult): string {
  const suite = spec.cases.suite;
  return `${JSON.stringify(
    {
      mode: suite,
      suite,
      batch: r.batch,
      sequential: r.sequential,
      n_cases: r.n_cases,
      settings: {
        layers: spec.layers ?? null,
        cov: spec.cov,
        steps: spec.steps ?? null,
        hparams: spec.hparams ?? null,
      },
      unedited: r.unedited,
      general_text_nll: r.general_text_nll,
      method: r.method,
      edited: r.edited,
      curve: r.curve,
      cases: r.cases,
      stats: r.stats,
    },
    null,
    2,
  )}\n`;
}

/** The curve (or the final scores) as `causeway edit … --csv` writes it. */
export function batchCsv(r: BatchRunResult): string {
  return curveCsv([r]);
}
