/**
 * Why a ROME edit whose δ converged can still fail (issue 14, item 5; docs/edits.md "ROME on
 * cases nobody tuned on"): for one CounterFact case, learns the edit with the given settings and
 * prints, for every token of the bare rewrite prompt, r_t = uᵀk_t / uᵀk_s (k_t the MLP key at
 * the edited layer, s the subject's last token): the edited model adds r_t·(v* − v₀) to the MLP
 * output at token t, which δ's optimisation (δ added at s only) never saw. Also P(new) with δ
 * (the optimisation's own estimate) and on the edited model.
 *
 *   npx tsx scripts/rome-carry.mts 61 '{}'
 */
import "../lib/model/backends-node.ts";
import { readFileSync } from "node:fs";
import path from "node:path";
import { applyEdits } from "../lib/edit/apply.ts";
import { parseEditDataset } from "../lib/edit/dataset.ts";
import { caseScores, rewriteCase } from "../lib/edit/metrics.ts";
import { computeRome } from "../lib/edit/rome.ts";
import type { RomeEdit } from "../lib/edit/types.ts";
import { selectBackend } from "../lib/model/backend.ts";
import { blockHook } from "../lib/model/hooks.ts";
import { BUNDLED_DIR, loadEngine } from "../test/interp-helpers.ts";

const [idArg = "61", setting = "{}"] = process.argv.slice(2);
await selectBackend(["wasm"]);
const engine = await loadEngine(BUNDLED_DIR);
const dataset = parseEditDataset(
  JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
);
const c = dataset.counterfact![Number(idArg)];
const r = c.requested_rewrite;
const { layer, ...params } = JSON.parse(setting) as { layer?: number } & RomeEdit["params"];
const done = await computeRome(
  engine.model,
  engine.tokenizer,
  {
    kind: "rome",
    site: layer === undefined ? {} : { layer },
    params: { ...params, prompt: r.prompt, subject: r.subject, target_new: r.target_new.str },
  },
  { dataset },
);
const L = done.edit.site.layer!;
const u = done.edit.learned!.u;
const prompt = r.prompt.replace("{}", r.subject);
const ids = engine.tokenizer.encode(prompt);
const hook = blockHook(L, "mlp.hook_post");
const { logits, activations } = engine.model.forward({ inputIds: [ids], record: [hook] });
logits.dispose();
const keys = (await activations.get(hook)!.array()) as number[][][];
activations.get(hook)!.dispose();
const dots = keys[0].map((k) => k.reduce((a, x, i) => a + x * u[i], 0));
const s =
  engine.tokenizer.encode(prompt.slice(0, prompt.indexOf(r.subject) + r.subject.length)).length - 1;
// P(new) on the bare prompt with δ = (uᵀk_s)·v added at the subject's last token only, and with
// r_t·δ added at every token (what the rank-one update does)
const v = done.edit.learned!.v;
const delta = v.map((x) => x * dots[s]);
const pNewWith = async (positions: number[], scale: (t: number) => number) => {
  const value = positions.flatMap((t) => delta.map((x) => x * scale(t)));
  const out = engine.model.forward({
    inputIds: [ids],
    interventions: [{ hook: blockHook(L, "hook_mlp_out"), op: "add", positions, value }],
  });
  const lp = (await out.logits.array()) as number[][][];
  out.logits.dispose();
  const row = lp[0][ids.length - 1];
  const mx = Math.max(...row);
  const z = row.reduce((a, x) => a + Math.exp(x - mx), 0);
  const p = (id: number) => Math.exp(row[id] - mx) / z;
  const first = (t: string) => engine.tokenizer.encode(` ${t}`)[0];
  return {
    p_new: +p(first(r.target_new.str)).toFixed(3),
    p_true: +p(first(r.target_true.str)).toFixed(3),
  };
};
const all = ids.map((_, t) => t);
const at_s_only = await pNewWith([s], () => 1);
const at_every_token = await pNewWith(all, (t) => dots[t] / dots[s]);
const others_only = await pNewWith(
  all.filter((t) => t !== s),
  (t) => dots[t] / dots[s],
);
const edited = applyEdits(engine.model, [done.edit]);
const sc = await caseScores(edited, engine.tokenizer, rewriteCase(c));
edited.dispose();
console.log(
  JSON.stringify({
    case: c.case_id,
    setting: JSON.parse(setting),
    tokens: ids.map((t, i) => ({
      token: engine.tokenizer.decode([t]),
      r: +(dots[i] / dots[s]).toFixed(3),
    })),
    subject_last: s,
    at_s_only,
    at_every_token,
    others_only,
    delta_p_new: +done.edit.learned!.info!.losses.at(-1)!.p_new.toFixed(3),
    edited_p_new: +sc.p_new.toFixed(3),
    edited_p_true: +sc.p_true.toFixed(3),
  }),
);
engine.dispose();
