/**
 * Activation patching: copy one clean activation at a time into the run on a counterfactual
 * prompt and measure how much of the clean behaviour it brings back.
 *
 *   const r = await runPatch(engine, {
 *     clean: "The Eiffel Tower is in the city of", corrupt: "The Colosseum is in the city of",
 *     target: " Paris", foil: " Rome", site: "resid_pre",
 *   }, { onRow: ({ index, values }) => … });
 *   r.scores[l][t]      // resid_pre / attn_out / mlp_out: [L][T]
 *                       // head_out: [L][H] (hook_z of head h at every position)
 *                       // head_out_pos: [L][T][H]
 *
 * Metrics (at the last position): logit_diff_normalized = (LD_patched − LD_corrupt) /
 * (LD_clean − LD_corrupt), LD = logit[target] − logit[foil], so the clean run scores 1 and the
 * corrupted run 0; prob = p(target). Both baselines are reported either way.
 *
 * Rows stream as they complete: by position (index = t; values[l], or values[l·H + h] for
 * head_out_pos) or, for head_out, by layer (index = l; values[h]).
 */
import { now } from "../util/clock";
import type { CancelSignal } from "./cancel";
import { throwIfCancelled } from "./cancel";
import {
  type PatchMetric,
  type PatchSite,
  type PatchSpec,
  resolvePatchOptions,
  type Strategy,
  TraceError,
} from "./spec";
import {
  type Cell,
  type CellSite,
  type GridRow,
  logitDiffMetric,
  type Progress,
  runGrid,
  type SweepSetup,
  totalPlannedCost,
} from "./sweep";
import { promptIds, singleTokenId, type TraceHost, tokenText, tokenTexts } from "./tokens";
import { makeEngine } from "./trace";

export interface PatchResult {
  clean_ids: number[];
  corrupt_ids: number[];
  clean_tokens: string[];
  corrupt_tokens: string[];
  site: PatchSite;
  metric: PatchMetric;
  target: { id: number; token: string };
  foil: { id: number; token: string };
  clean_logit_diff: number;
  corrupt_logit_diff: number;
  clean_prob: number;
  corrupt_prob: number;
  /** [L][T], [L][H] (head_out) or [L][T][H] (head_out_pos). */
  scores: number[][] | number[][][];
  n_layer: number;
  n_head: number;
  evaluations: number;
  strategy: Strategy;
  ms: number;
}

export interface PatchOptions {
  onBaseline?: (b: {
    clean_logit_diff: number;
    corrupt_logit_diff: number;
    clean_prob: number;
    corrupt_prob: number;
  }) => void;
  onRow?: (row: GridRow) => void;
  onProgress?: (p: Progress) => void;
  signal?: CancelSignal;
  maxBatchRows?: number;
  /** fast strategy: see SweepSetup.singlePosition (default false). */
  singlePosition?: boolean;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The cells of a patching sweep and how they stream. */
export function patchCells(
  site: PatchSite,
  T: number,
  L: number,
  H: number,
): { cells: Cell[]; rows: { index: number; cells: number[] }[] } {
  const cells: Cell[] = [];
  const rows: { index: number; cells: number[] }[] = [];
  if (site === "head_out") {
    // cell l·H + h; rows by layer
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++)
        cells.push({ patches: [{ site: "z", layer: l, head: h, positions: range(T) }] });
      rows.push({ index: l, cells: range(H).map((h) => l * H + h) });
    }
  } else if (site === "head_out_pos") {
    // cell (t·L + l)·H + h; rows by position, values[l·H + h]
    for (let t = 0; t < T; t++) {
      for (let l = 0; l < L; l++) {
        for (let h = 0; h < H; h++)
          cells.push({ patches: [{ site: "z", layer: l, head: h, positions: [t] }] });
      }
      rows.push({ index: t, cells: range(L * H).map((i) => t * L * H + i) });
    }
  } else {
    // cell t·L + l; rows by position, values[l]
    const s: CellSite = site;
    for (let t = 0; t < T; t++) {
      for (let l = 0; l < L; l++) cells.push({ patches: [{ site: s, layer: l, positions: [t] }] });
      rows.push({ index: t, cells: range(L).map((l) => t * L + l) });
    }
  }
  return { cells, rows };
}

/**
 * The clean and corrupted ids, target and foil of a patching spec, validated: same length, not
 * identical, fitting the context, single-token target and foil that differ.
 */
export function patchPair(
  host: TraceHost,
  spec: Pick<PatchSpec, "clean" | "corrupt" | "target" | "foil">,
): { clean: number[]; corrupt: number[]; target: number; foil: number } {
  const { nCtx } = host.model.config;
  const clean = promptIds(host, spec.clean, "clean prompt");
  const corrupt = promptIds(host, spec.corrupt, "corrupted prompt");
  const T = clean.length;
  if (corrupt.length !== T) {
    throw new TraceError(
      "length_mismatch",
      `the corrupted prompt has ${corrupt.length} tokens and the clean prompt ${T}; they must have the same number of tokens`,
    );
  }
  if (corrupt.every((id, i) => id === clean[i])) {
    throw new TraceError(
      "identical_prompts",
      "the corrupted prompt is the same as the clean prompt",
    );
  }
  if (T > nCtx)
    throw new TraceError("too_long", `the prompt has ${T} tokens; the model's context is ${nCtx}`);
  const target = singleTokenId(host, clean, spec.target, "target");
  const foil = singleTokenId(host, clean, spec.foil, "foil");
  if (target === foil)
    throw new TraceError("bad_target", "the target and the foil are the same token");
  return { clean, corrupt, target, foil };
}

export async function runPatch(
  host: TraceHost,
  spec: PatchSpec,
  options: PatchOptions = {},
): Promise<PatchResult> {
  const started = now();
  const opts = resolvePatchOptions(spec);
  const { model } = host;
  const { nLayer: L, nHead: H } = model.config;
  const { clean, corrupt, target, foil } = patchPair(host, spec);
  const T = clean.length;
  throwIfCancelled(options.signal);

  const setup: SweepSetup = {
    model,
    cleanIds: clean,
    corruptIds: corrupt,
    rows: 1,
    scored: [T - 1],
    sites: new Set<CellSite>([
      opts.site === "head_out" || opts.site === "head_out_pos" ? "z" : opts.site,
    ]),
    maxBatchRows: options.maxBatchRows,
    singlePosition: options.singlePosition,
  };
  const engine = makeEngine(setup, opts.strategy);
  try {
    const baseCost = engine.baselineCost();
    options.onProgress?.({ phase: "clean", done: 0, total: baseCost });
    await engine.clean();
    const base = await engine.baseline(logitDiffMetric(target, foil));
    const [ldClean, pClean] = base.clean;
    const [ldCorrupt, pCorrupt] = base.corrupt;
    const denom = ldClean - ldCorrupt;
    if (opts.metric === "logit_diff_normalized" && denom === 0) {
      throw new TraceError(
        "bad_target",
        "the clean and corrupted runs give the same logit difference, so the normalised logit difference is undefined; use metric prob",
      );
    }
    const baseline = {
      clean_logit_diff: ldClean,
      corrupt_logit_diff: ldCorrupt,
      clean_prob: pClean,
      corrupt_prob: pCorrupt,
    };
    options.onBaseline?.(baseline);
    throwIfCancelled(options.signal);

    const { cells, rows } = patchCells(opts.site, T, L, H);
    const groups = engine.plan(cells);
    const total = baseCost + totalPlannedCost(groups);
    const value =
      opts.metric === "prob"
        ? (_: number, raw: Float64Array) => raw[1]
        : (_: number, raw: Float64Array) => (raw[0] - ldCorrupt) / denom;
    const v = await runGrid({
      engine,
      cells,
      groups,
      rows,
      metricSize: 2,
      value,
      done0: baseCost,
      total,
      signal: options.signal,
      onProgress: options.onProgress,
      onRow: options.onRow,
    });
    let scores: number[][] | number[][][];
    if (opts.site === "head_out") {
      scores = range(L).map((l) => range(H).map((h) => v[l * H + h]));
    } else if (opts.site === "head_out_pos") {
      scores = range(L).map((l) =>
        range(T).map((t) => range(H).map((h) => v[(t * L + l) * H + h])),
      );
    } else {
      scores = range(L).map((l) => range(T).map((t) => v[t * L + l]));
    }
    return {
      clean_ids: clean,
      corrupt_ids: corrupt,
      clean_tokens: tokenTexts(host, clean),
      corrupt_tokens: tokenTexts(host, corrupt),
      site: opts.site,
      metric: opts.metric,
      target: { id: target, token: tokenText(host, target) },
      foil: { id: foil, token: tokenText(host, foil) },
      ...baseline,
      scores,
      n_layer: L,
      n_head: H,
      evaluations: engine.evaluations,
      strategy: opts.strategy,
      ms: now() - started,
    };
  } finally {
    engine.dispose();
  }
}
