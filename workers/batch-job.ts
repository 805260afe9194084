/**
 * The app's batch / sequential editing run (lib/batch-jobs.ts has the messages): the same
 * lib/edit/eval-run.ts runEditEval as `causeway edit --counterfact … --batch … --sequential`,
 * started from the model as the applied stack leaves it, with
 *
 * - C of every layer the method moves read from browser storage or computed and stored first
 *   (lib/edit/cov-cache.ts), with progress per layer;
 * - every batch's learned edits posted as soon as they are learned (progress "learned"), so a
 *   cancelled or failed run loses none of them: the store pushes them onto the stack;
 * - progress per optimisation step and per scored batch (with its curve point).
 *
 * The spec comes from the page and is checked here like any untrusted message.
 */

import { type BatchProgressMsg, type BatchRunSpec, checkBatchSpec } from "../lib/batch-jobs";
import { BATCH_METHODS } from "../lib/edit/batch-edit";
import { checkLearningCancelled } from "../lib/edit/cancel";
import { cachedMoment, type MomentSource, type MomentStore } from "../lib/edit/cov-cache";
import { checkZsre, type EditDataset, parseEditDataset } from "../lib/edit/dataset";
import { type EvalCase, suiteCases } from "../lib/edit/eval-cases";
import { type BatchEditor, editorFor, METHOD_NAMES } from "../lib/edit/eval-methods";
import { runEditEval } from "../lib/edit/eval-run";
import { defaultMemitLayers, memitHparams, updatedLayers } from "../lib/edit/memit-params";
import { covTexts, defaultRomeLayer, romeParams } from "../lib/edit/rome";
import type { Edit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import type { Gpt2Model } from "../lib/model/gpt2";
import type { RequestOf } from "../lib/protocol";
import { now } from "../lib/util/clock";
import { type Job, WorkerError } from "./lane";

/** The methods this build has, "+blue" variants included (eval-methods' names). */
export function availableMethods(): string[] {
  const have = BATCH_METHODS as readonly string[];
  return METHOD_NAMES.filter((m) => have.includes(m.split("+")[0]));
}

export interface BatchJobContext {
  engine: Engine;
  /** The model the run starts from: the loaded one, or the applied stack's weights. */
  start: Gpt2Model;
  /** The model's dataset.json (may be absent). */
  dataset: EditDataset | undefined;
  /** modelStatsId of the loaded model (for the C cache). */
  modelId: () => Promise<string>;
  /** Browser storage of C (null: none). */
  store: MomentStore | null;
}

type Msg = RequestOf<"batchEdit">;

/** The cases of the run, from the model's dataset or the page. */
function runCases(spec: BatchRunSpec, dataset: EditDataset | undefined): EvalCase[] {
  const c = spec.cases;
  if (c.from === "model") {
    const all = suiteCases(dataset, c.suite);
    if (all.length === 0) {
      throw new WorkerError(
        "no_dataset",
        `This model's dataset has no ${c.suite} cases: bring a ${c.suite === "zsre" ? "zsRE" : "CounterFact"} file`,
      );
    }
    const ok =
      Number.isInteger(c.start) && Number.isInteger(c.count) && c.start >= 0 && c.count >= 1;
    if (!ok || c.start + c.count > all.length) {
      throw new WorkerError(
        "bad_request",
        `cases ${c.start} to ${c.start + c.count - 1} do not exist: the dataset has ${all.length} ${c.suite} cases`,
      );
    }
    return all.slice(c.start, c.start + c.count);
  }
  if (c.suite === "counterfact") {
    return suiteCases(parseEditDataset({ counterfact: c.counterfact }, "the rewrites"), c.suite);
  }
  checkZsre(c.zsre, "the rewrites");
  return suiteCases({ zsre: c.zsre }, "zsre");
}

/** The run's editor with the form's settings (CLI: --layer/--layers, --steps, --cov, --hparams). */
function runEditor(spec: BatchRunSpec): BatchEditor {
  const rome = spec.method === "rome";
  return editorFor(spec.method, {
    ...(spec.layers ? (rome ? { layer: spec.layers[0] } : { layers: spec.layers }) : {}),
    romeParams: { cov: spec.cov, ...(spec.steps !== undefined ? { steps: spec.steps } : {}) },
    hparams: {
      ...(spec.hparams ?? {}),
      mom2_dataset: spec.cov,
      ...(spec.steps !== undefined ? { v_num_grad_steps: spec.steps } : {}),
    },
  });
}

/** The layers whose C the method reads and their corpus, for methods whose C is known here. */
function statsPlan(
  spec: BatchRunSpec,
  start: Gpt2Model,
  dataset: EditDataset | undefined,
): { layers: number[]; texts: string[] } | null {
  if (spec.cov === "identity") return null;
  const [method, blue] = spec.method.split("+");
  const all = covTexts(dataset, spec.cov);
  if (method === "rome") {
    const n = romeParams({ prompt: "{}", subject: "", target_new: "" }).cov_texts;
    const layer = spec.layers?.[0] ?? defaultRomeLayer(start.config);
    return { layers: [layer], texts: all.slice(0, n ?? all.length) };
  }
  if (!["memit", "alphaedit", "pmet"].includes(method)) return null; // computed by the method itself
  const hp = memitHparams({ ...(spec.hparams ?? {}), mom2_dataset: spec.cov }, start.config);
  const range = spec.layers ?? defaultMemitLayers(start.config);
  return {
    layers: updatedLayers(range, blue === "blue"),
    texts: all.slice(0, hp.mom2_n_samples ?? all.length),
  };
}

export async function runBatchJob(job: Job<Msg>, x: BatchJobContext): Promise<void> {
  const { reqId, post } = job;
  const spec = checkBatchSpec(job.msg.run, x.start.config.nLayer);
  const signal = {
    get cancelled() {
      return job.signal.aborted;
    },
  };
  const progress = (p: Omit<BatchProgressMsg, "request">) =>
    post({ type: "progress", request: "batchEdit", reqId, ...p });
  const t0 = now();
  const dataset: EditDataset = {
    ...(x.dataset ?? {}),
    ...(spec.corpus ? { general_text: spec.corpus } : {}),
  };
  const cases = runCases(spec, dataset);
  const editor = runEditor(spec);
  const stats: { layer: number; source: MomentSource }[] = [];
  const plan = statsPlan(spec, x.start, dataset);
  if (plan) {
    const modelId = spec.cacheStats && x.store ? await x.modelId() : "";
    for (const [i, layer] of plan.layers.entries()) {
      await checkLearningCancelled(signal);
      progress({ phase: "stats", done: i, total: plan.layers.length, layer });
      const r = await cachedMoment({
        model: x.start,
        tok: x.engine.tokenizer,
        texts: plan.texts,
        layer,
        modelId,
        store: spec.cacheStats ? x.store : null,
        watch: {
          signal,
          // texts of the corpus done: the bar moves inside a layer, and a cancel stops it
          onProgress: (texts, of) =>
            progress({ phase: "stats", done: i, total: plan.layers.length, layer, texts, of }),
        },
      });
      stats.push({ layer, source: r.source });
      const note = r.note ? { note: r.note } : {};
      progress({
        phase: "stats",
        done: i + 1,
        total: plan.layers.length,
        layer,
        source: r.source,
        ...note,
      });
    }
  }
  let learnedBatches = 0;
  // runEditEval's own count (a case repeating a subject of its batch waits for the next one)
  let batches = Math.ceil(cases.length / spec.batch);
  const posting: BatchEditor = {
    name: editor.name,
    async edit(a) {
      const edits: Edit[] = await editor.edit(a);
      progress({ phase: "learned", done: ++learnedBatches, total: batches, edits });
      return edits;
    },
  };
  const result = await runEditEval({
    model: x.start,
    tok: x.engine.tokenizer,
    dataset,
    cases,
    editor: posting,
    batch: spec.batch,
    sequential: spec.sequential,
    texts: dataset.general_text?.slice(0, spec.texts),
    fluency: spec.fluency ? undefined : null,
    signal,
    onProgress: (p) => {
      if (p.phase === "unedited") progress({ phase: "unedited", done: p.done, total: p.total });
      else if (p.phase === "edit") {
        batches = p.batches;
        progress({
          phase: "edit",
          done: p.batch,
          total: p.batches,
          request_index: p.request,
          step: p.step,
          steps: p.steps,
          loss: p.loss,
        });
      } else {
        progress({
          phase: "score",
          done: p.batch + 1,
          total: p.batches,
          ...(p.point ? { point: p.point } : {}),
        });
      }
    },
  });
  const { edits: _edits, ...rest } = result;
  post({ type: "batchEdit", reqId, result: { ...rest, stats } });
  post({ type: "done", reqId, ms: now() - t0, tensorsLeft: x.engine.tensorsInUse() });
}
