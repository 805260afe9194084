/**
 * ROME settings compared on CounterFact cases of the bundled model (issue 14, item 5): each case
 * edited alone on the original model (lib/edit/rome.ts computeRome, wasm), scored with ROME's
 * definitions (lib/edit/metrics.ts caseScores), with δ's final loss and p_new so that a failure
 * can be told apart: δ not converged (high loss) or δ converged but the rank-one update not
 * carrying it. One process runs every setting given, so C and the templates are computed once.
 * Tuning looks at the development split (cases 50–99) only; docs/edits.md lists the results.
 *
 *   npx tsx scripts/rome-tune.mts <cases: 50:100 | 61,87,96> '<ROME params JSON, "layer" allowed>' […]
 *   nice -n 10 npx tsx scripts/rome-tune.mts 50:100 '{}' '{"update_key": "mean"}' '{"lr": 1}'
 */
import "../lib/model/backends-node.ts";
import { readFileSync } from "node:fs";
import path from "node:path";
import { applyEdits } from "../lib/edit/apply.ts";
import { parseEditDataset } from "../lib/edit/dataset.ts";
import { aggregateScores, type CaseScores, caseScores, rewriteCase } from "../lib/edit/metrics.ts";
import { computeRome } from "../lib/edit/rome.ts";
import type { RomeEdit } from "../lib/edit/types.ts";
import { selectBackend } from "../lib/model/backend.ts";
import { BUNDLED_DIR, loadEngine } from "../test/interp-helpers.ts";

const [spec = "50:100", ...settings] = process.argv.slice(2);
const ids = spec.includes(":")
  ? (([a, b]) => Array.from({ length: b - a }, (_, i) => a + i))(spec.split(":").map(Number))
  : spec.split(",").map(Number);
await selectBackend(["wasm"]);
const engine = await loadEngine(BUNDLED_DIR);
const dataset = parseEditDataset(
  JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
);
for (const s of settings.length ? settings : ["{}"]) {
  const { layer, ...params } = JSON.parse(s) as { layer?: number } & RomeEdit["params"];
  const scores: CaseScores[] = [];
  const t0 = Date.now();
  for (const id of ids) {
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
    edited.dispose();
    scores.push(sc);
    const info = done.edit.learned!.info!;
    const last = info.losses.at(-1)!;
    console.log(
      JSON.stringify({
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
      }),
    );
  }
  const a = aggregateScores(scores);
  console.log(
    JSON.stringify({
      setting: JSON.parse(s),
      cases: spec,
      n: ids.length,
      efficacy: a.efficacy,
      paraphrase: a.paraphrase,
      neighborhood: a.neighborhood,
      score: a.score,
      failures: scores.filter((x) => x.efficacy === 0).map((x) => x.case_id),
      s: Math.round((Date.now() - t0) / 1000),
    }),
  );
}
engine.dispose();
