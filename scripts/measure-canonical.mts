/**
 * Canonical-examples LoRA over several bundled facts (docs/edits.md quotes the output):
 *   npx tsx scripts/measure-canonical.mts [N=10] [epsilon=1e-3]
 * For each of the first N known facts of public/models/tiny-facts/dataset.json that use a
 * training template, the example is (its prompt, the next object of its relation after the true
 * one): a counterfactual the model does not predict. LoRA with the defaults is trained on that one
 * example alone; the held-out success (P(suffix) ≥ 0.2 on the relation's other phrasings) before
 * and after and the general-text loss ratio are printed, then their means. The paper's whole
 * evaluation (OOD contexts, hard negatives, validation/test, LoRA vs full fine-tuning vs ROME vs
 * MEMIT at one ε) is `causeway canonical` (docs/recipes.md "Canonical examples").
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import { learnLora } from "../lib/edit/lora";
import { Engine } from "../lib/engine";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";

const DIR = path.join(import.meta.dirname, "../public/models/tiny-facts");
const n = Number(process.argv[2] ?? 10);
const epsilon = Number(process.argv[3] ?? 1e-3);
await selectBackend(["wasm"]);
const engine = await Engine.load(directorySource(DIR), "tiny-facts");
const dataset = JSON.parse(readFileSync(path.join(DIR, "dataset.json"), "utf8"));
const rels = new Map<string, { objects: string[] }>(
  dataset.relations.map((r: { relation_id: string }) => [r.relation_id, r]),
);
const rows: { before: number; after: number; ratio: number; kept: number }[] = [];
for (const f of dataset.known_facts.slice(0, n)) {
  const objs = rels.get(f.relation_id)!.objects;
  const suffix = objs[(objs.indexOf(f.attribute) + 1) % objs.length];
  const e = await learnLora(
    engine.model,
    engine.tokenizer,
    { kind: "lora", site: {}, params: { prefix: f.prompt, suffix, epsilon } },
    { dataset },
  );
  const i = e.learned!.info!;
  rows.push({
    before: i.success_before!,
    after: i.success_rate!,
    ratio: i.loss_ratio,
    kept: i.kept_step,
  });
  console.log(
    `${JSON.stringify(f.prompt)} → ${JSON.stringify(suffix)}: success ${i.success_before} → ${i.success_rate?.toFixed(2)} (${i.n_eval}), ratio ${i.loss_ratio.toFixed(6)}, kept ${i.kept_step}`,
  );
}
const mean = (k: keyof (typeof rows)[0]) => rows.reduce((a, r) => a + r[k], 0) / rows.length;
console.log(
  `mean over ${rows.length}: success ${mean("before").toFixed(3)} → ${mean("after").toFixed(3)}, ratio ${mean("ratio").toFixed(6)} (max ${Math.max(...rows.map((r) => r.ratio)).toFixed(6)}), kept step ${mean("kept").toFixed(1)}; ε ${epsilon}`,
);
engine.dispose();
