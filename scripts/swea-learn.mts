/**
 * Learns one SWEA batch on bundled CounterFact cases (lib/edit/swea.ts learnSwea, as
 * `causeway edit --method swea --batch N` does) and writes the learned edit with the seconds it
 * took; with --against, compares the learned values with an earlier run's file:
 *
 *   node --import tsx scripts/swea-learn.mts [50:60] [--model tiny-facts] [--params JSON]
 *     [--out FILE] [--against FILE]
 *
 * (--params: SWEA's hyper-parameters, e.g. '{"mode":"optimize"}' to time the optimisation alone,
 * '{"v_num_grad_steps":1}' to time mostly the suppression step.)
 *
 * The same command before and after a change to SWEA's learning gives the speed-up (wall and
 * CPU seconds of the learning alone), and
 * --against says how far the fused offsets, losses, p_new and suppressed dimensions moved.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadCliEngine } from "../lib/cli/engine";
import { parseEditDataset } from "../lib/edit/dataset";
import { suiteCases } from "../lib/edit/eval-cases";
import { learnSwea } from "../lib/edit/swea";
import type { SweaEdit } from "../lib/edit/types";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const range = args.find((a) => /^\d+:\d+$/.test(a)) ?? "50:60";
const model = flag("--model") ?? "tiny-facts";
const [a, b] = range.split(":").map(Number);
const { engine, backend } = await loadCliEngine(model);
const dir = path.join(import.meta.dirname, "../public/models", model);
const dataset = parseEditDataset(JSON.parse(readFileSync(path.join(dir, "dataset.json"), "utf8")));
const requests = suiteCases(dataset, "counterfact")
  .slice(a, b)
  .map(({ request: { prompt, subject, target_new, target_true } }) => ({
    prompt,
    subject,
    target_new,
    ...(target_true ? { target_true } : {}),
  }));
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const edit = await learnSwea(engine.model, engine.tokenizer, {
  kind: "swea",
  params: { requests, ...JSON.parse(flag("--params") ?? "{}") },
});
const seconds = +((performance.now() - t0) / 1000).toFixed(1);
const used = process.cpuUsage(cpu0);
// this process's CPU time: steadier than the wall clock on a shared machine
const cpu_seconds = +((used.user + used.system) / 1e6).toFixed(1);
engine.dispose();
const out = flag("--out");
if (out)
  writeFileSync(out, JSON.stringify({ model, backend, cases: range, seconds, cpu_seconds, edit }));

const against = flag("--against");
let diff = {};
if (against) {
  const old = JSON.parse(readFileSync(against, "utf8")).edit as SweaEdit;
  const [x, y] = [old.learned!, edit.learned!];
  let offsets = 0;
  let scale = 0;
  x.fusions.forEach((f, i) => {
    f.offsets.forEach((v, j) => {
      offsets = Math.max(offsets, Math.abs(v - y.fusions[i].offsets[j]));
      scale = Math.max(scale, Math.abs(v));
    });
  });
  let losses = 0;
  let pNew = 0;
  let steps = 0;
  let dims = 0;
  x.info.requests.forEach((r, i) => {
    r.spellings.forEach((s, k) => {
      const t = y.info.requests[i].spellings[k];
      if (s.losses.length !== t.losses.length) steps++;
      s.losses.forEach((l, j) => {
        if (j < t.losses.length) losses = Math.max(losses, Math.abs(l - t.losses[j]));
      });
      pNew = Math.max(pNew, Math.abs(s.p_new - t.p_new));
      if (JSON.stringify(s.suppressed) !== JSON.stringify(t.suppressed)) dims++;
    });
  });
  diff = {
    fusions: [x.fusions.length, y.fusions.length],
    offsets_max_abs_diff: offsets,
    offsets_max_abs: scale,
    losses_max_abs_diff: losses,
    p_new_max_abs_diff: pNew,
    spellings_with_other_step_count: steps,
    spellings_with_other_suppressed_dims: dims,
  };
}
console.log(JSON.stringify({ model, backend, cases: range, seconds, cpu_seconds, ...diff }));
