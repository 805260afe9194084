/**
 * ROME settings compared on CounterFact cases of the bundled model (issue 14, item 5): each case
 * edited alone on the original model (lib/edit/rome.ts computeRome, wasm), scored with ROME's
 * definitions (lib/edit/metrics.ts caseScores), with δ's final loss and p_new so that a failure
 * can be told apart: δ not converged (high loss) or δ converged but the rank-one update not
 * carrying it; and the general-text loss ratio (edited / original mean next-token NLL over the
 * first 100 general texts, as `causeway edit --counterfact` with its default --texts 100), with
 * uᵀk of the update key and ‖ΔW‖ = ‖v‖ (u is a unit vector), which tell a large ratio's cause.
 * One process runs every setting given, so C and the templates are computed once.
 * Tuning looks at the development split only (cases 0–149 since session 7: all of them have
 * been seen; the held-out split is data/tiny-facts-counterfact-150-249.json); docs/edits.md
 * lists the results.
 *
 *   npx tsx scripts/rome-tune.mts <cases: 50:100 | 61,87,96> '<ROME params JSON, "layer" allowed>' […]
 *   nice -n 10 npx tsx scripts/rome-tune.mts 50:100 '{}' '{"update_key": "mean"}' '{"lr": 1}'
 * '{}' is today's defaults (since session 8 `preserve` 10, `preserve_cost` 2); ROME's own C is
 * '{"preserve": 0, "preserve_cost": 0}' (the defaults of the runs before session 8).
 */
import "../lib/model/backends-node.ts";
import { applyEdits } from "../lib/edit/apply.ts";
import { dot, norm } from "../lib/edit/linalg.ts";
import {
  aggregateScores,
  type CaseScores,
  caseScores,
  generalTextLoss,
  rewriteCase,
} from "../lib/edit/metrics.ts";
import { computeRome, ROME_DEFAULTS } from "../lib/edit/rome.ts";
import type { RomeEdit } from "../lib/edit/types.ts";
import { caseIds, openBundled } from "./bundled-cases.mts";

const [spec = "50:100", ...settings] = process.argv.slice(2);
const ids = caseIds(spec);
const { engine, dataset } = await openBundled();
const texts = (dataset.general_text ?? []).slice(0, 100);
const baseNll = (await generalTextLoss(engine.model, engine.tokenizer, texts)).nll;
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);

interface CaseRun {
  line: Record<string, unknown>;
  scores: CaseScores;
  ratio: number;
  /** Adam steps taken; fewer than the setting's steps: the loss fell below early_stop. */
  taken: number;
}

/** One case learned with one setting, scored, and its diagnostics. */
async function runCase(id: number, layer: number | undefined, params: object): Promise<CaseRun> {
  const c = dataset.counterfact![id];
  const r = c.requested_rewrite;
  const edit: RomeEdit = {
    kind: "rome",
    site: layer === undefined ? {} : { layer },
    params: {
      ...params,
      prompt: r.prompt,
      subject: r.subject,
      target_new: r.target_new.str,
      target_true: r.target_true.str,
    },
  };
  const done = await computeRome(engine.model, engine.tokenizer, edit, { dataset });
  const edited = applyEdits(engine.model, [done.edit]);
  const sc = await caseScores(edited, engine.tokenizer, rewriteCase(c));
  const ratio = (await generalTextLoss(edited, engine.tokenizer, texts)).nll / baseNll;
  edited.dispose();
  const { u, v } = done.edit.learned!;
  const info = done.edit.learned!.info!;
  const last = info.losses.at(-1)!;
  const line = {
    case: id,
    efficacy: sc.efficacy,
    paraphrase: sc.paraphrase,
    neighborhood: sc.neighborhood,
    p_new: +sc.p_new.toFixed(3),
    p_true: +sc.p_true.toFixed(3),
    steps: info.losses.length,
    loss: +last.loss.toFixed(3),
    delta_p_new: +last.p_new.toFixed(3),
    delta_over_v0: +(info.delta_norm / info.v0_norm).toFixed(2),
    loss_ratio: +ratio.toFixed(5),
    uk: +dot(u, done.kUpdate).toFixed(4),
    dw_norm: +norm(v).toFixed(2),
    ...(info.preserve ? { preserve: +info.preserve.toPrecision(3) } : {}),
  };
  return { line, scores: sc, ratio, taken: info.losses.length };
}

/**
 * A setting that differs from an earlier one only by more steps learns exactly what the earlier
 * one learned on every case where that one stopped early (the loop is deterministic): reused.
 */
const earlier: { key: string; steps: number; runs: Map<number, CaseRun> }[] = [];
const stepsOf = (p: { steps?: number }) => p.steps ?? ROME_DEFAULTS.steps;
const keyOf = (p: object) => JSON.stringify({ ...p, steps: undefined });

for (const s of settings.length ? settings : ["{}"]) {
  const { layer, ...params } = JSON.parse(s) as { layer?: number } & RomeEdit["params"];
  const key = keyOf({ layer, ...params });
  const steps = stepsOf(params);
  const runs = new Map<number, CaseRun>();
  const t0 = Date.now();
  let reused = 0;
  for (const id of ids) {
    const prior = earlier
      .filter((e) => e.key === key && e.steps <= steps)
      .map((e) => ({ e, run: e.runs.get(id) }))
      .find(({ e, run }) => run && run.taken < e.steps)?.run;
    const run = prior ?? (await runCase(id, layer, params));
    if (prior) reused++;
    runs.set(id, run);
    console.log(JSON.stringify({ ...run.line, ...(prior ? { reused: true } : {}) }));
  }
  earlier.push({ key, steps, runs });
  const all = [...runs.values()];
  const a = aggregateScores(all.map((x) => x.scores));
  const ratios = all.map((x) => x.ratio);
  console.log(
    JSON.stringify({
      setting: JSON.parse(s),
      cases: spec,
      n: ids.length,
      efficacy: a.efficacy,
      paraphrase: a.paraphrase,
      neighborhood: a.neighborhood,
      score: a.score,
      loss_ratio: +mean(ratios).toFixed(5),
      loss_ratio_max: +Math.max(...ratios).toFixed(5),
      failures: all.filter((x) => x.scores.efficacy === 0).map((x) => x.scores.case_id),
      reused,
      s: Math.round((Date.now() - t0) / 1000),
    }),
  );
}
engine.dispose();
