/**
 * `causeway edit`: apply a stack of edits (docs/edits.md), learning what they lack, and measure.
 *
 *   causeway edit --model M --edit edits.json [--eval] [--alphas 0,2,4] [--save DIR [--force]] [--out learned.json]
 *     [--dataset file] [--backend wasm|cpu] [--quiet] --json
 *   causeway edit --model M (--counterfact N|A:B | --zsre N|A:B) [--method rome | --compare rome,memit,…]
 *     [--batch B] [--sequential] [--csv FILE] [--no-fluency] [ROME flags] [--dataset file]
 *     [--corpus file] [--backend wasm|cpu] --json   (lib/cli/edit-eval.ts)
 *
 * Edit-file mode learns the edits without learned values (in stack order, each on the model
 * edited by those before it), applies the stack and reports per edit whether it is a weight
 * change. --eval adds: the general-text loss ratio (edited / original), CounterFact scores for
 * ROME edits (their case_id's prompts from dataset.json, or their own paraphrase/neighbourhood
 * prompts), and each edit's own `eval` (log P(target) − log P(foil)) before and after.
 * --alphas: the effect of α (the edit's eval for each α) of every steering edit with an eval.
 * --save writes the weight changes as an HF checkpoint into a new or empty folder (a non-empty
 * one only with --force; never the model's own folder); --out writes the learned stack.
 *
 * CounterFact and zsRE modes (lib/cli/edit-eval.ts, lib/edit/eval-run.ts): every case is edited
 * (alone, or in batches, or batches one after another with --sequential), scored, and the
 * scores averaged, next to the unedited model's; --compare runs several methods on the same cases.
 *
 * Progress (ROME's steps) goes to stderr unless --quiet.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  applyEdits,
  describeEdit,
  type Edit,
  type EditDataset,
  editedCheckpoint,
  learnStack,
  serializeEdits,
  writeSafetensors,
} from "../edit";
import { checkpointNotes, editedConfigJson } from "../edit/checkpoint";
import { evaluateStack, stackAlphaCurves } from "../edit/evaluate";
import { Engine } from "../engine";
import { loadModelFiles } from "../load/model-files";
import { selectBackend } from "../model/backend";
import { Gpt2Model } from "../model/gpt2";
import { parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import "../model/backends-node";
import { EVAL_FLAGS, EVAL_USAGE, evalRun, formatEval } from "./edit-eval";
import { asUsage, loadDataset, parseAlphas, progress, readEditFile } from "./edit-inputs";
import { backendOrder } from "./engine";
import { resolveModel } from "./model-source";
import { checkSaveDir, makeSaveDir } from "./save-dir";

export const editCommand: Command = {
  name: "edit",
  usage: `causeway edit --model M (--edit edits.json [--eval] [--alphas 0,2,4] [--save DIR [--force]] [--out FILE] | ${EVAL_USAGE}) [--dataset file] [--corpus file] [--backend wasm|cpu] [--quiet] --json`,
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      edit: { type: "string" },
      eval: { type: "boolean", default: false },
      alphas: { type: "string" },
      save: { type: "string" },
      force: { type: "boolean", default: false },
      out: { type: "string" },
      ...EVAL_FLAGS,
      dataset: { type: "string" },
      corpus: { type: "string" },
      backend: { type: "string" },
      quiet: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    });
    const modelSpec = requireString(flags, "model");
    const editFile = flags.edit as string | undefined;
    const evalMode = flags.counterfact !== undefined || flags.zsre !== undefined;
    if ((editFile === undefined) === !evalMode) {
      throw new UsageError("give --edit FILE or --counterfact N (or --zsre N)");
    }
    const order = backendOrder(flags.backend as string | undefined);
    const { name, source, dir } = resolveModel(modelSpec);
    if (typeof flags.save === "string") {
      checkSaveDir(flags.save, { sourceDir: dir, force: flags.force === true });
    }
    const dataset = loadDataset(
      dir,
      flags.dataset as string | undefined,
      flags.corpus as string | undefined,
    );
    const edits = editFile ? readEditFile(editFile) : [];
    const { backend } = await selectBackend(order);
    const files = await loadModelFiles(source);
    const engine = Engine.fromModel(
      name,
      Gpt2Model.fromWeights(files.config, files.weights),
      files.tokenizer,
    );
    const log = progress(flags.quiet as boolean);
    const t0 = performance.now();
    try {
      if (evalMode) {
        const r = await evalRun(engine, dataset, flags, log).catch(asUsage);
        return { model: name, backend, ...r, ms: performance.now() - t0 };
      }
      const r = await stackRun(engine, edits, dataset, {
        evaluate: flags.eval as boolean,
        alphas: parseAlphas(flags.alphas as string | undefined),
        save: flags.save as string | undefined,
        out: flags.out as string | undefined,
        modelDir: dir,
        modelName: name,
        files,
        log,
      }).catch(asUsage);
      return { model: name, backend, ...r, ms: performance.now() - t0 };
    } finally {
      engine.dispose();
    }
  },
  format(result) {
    const r = result as Record<string, unknown>;
    const lines: string[] = [];
    if (r.mode !== "stack") {
      lines.push(formatEval(r));
    } else {
      for (const e of r.edits as {
        index: number;
        edit: string;
        weight_change: boolean;
        learned_now: boolean;
      }[]) {
        lines.push(
          `${e.index}: ${e.edit}${e.learned_now ? " (learned now)" : ""}${e.weight_change ? " [weight change]" : " [intervention]"}`,
        );
      }
      const ev = r.eval as Record<string, unknown> | undefined;
      if (ev) lines.push(JSON.stringify(ev, null, 2));
      if (r.saved) lines.push(`saved: ${JSON.stringify(r.saved)}`);
    }
    return lines.join("\n");
  },
};

async function stackRun(
  engine: Engine,
  input: Edit[],
  dataset: EditDataset | undefined,
  o: {
    evaluate: boolean;
    alphas?: number[];
    save?: string;
    out?: string;
    modelDir: string;
    modelName: string;
    files: Awaited<ReturnType<typeof loadModelFiles>>;
    log: (s: string) => void;
  },
) {
  const model: Gpt2Model = engine.model;
  const tok = engine.tokenizer;
  const { edits, learned } = await learnStack(model, tok, input, {
    dataset,
    onEdit: (i, phase, e) => phase === "start" && o.log(`learning edit ${i}: ${describeEdit(e)}`),
    onTrainStep: (i, s) => {
      if (s.step % 10 === 0 || s.step === s.total)
        o.log(`  edit ${i} step ${s.step}/${s.total}: loss ${s.loss.toFixed(4)}`);
    },
    onRomeStep: (i, s) =>
      o.log(
        `  edit ${i} ROME step ${s.step + 1}/${s.steps}: loss ${s.loss.toFixed(4)} (nll ${s.nll.toFixed(4)}, kl ${s.kl.toFixed(4)}, decay ${s.decay.toFixed(4)}), P(new) ${s.p_new.toFixed(3)}`,
      ),
  });
  if (o.out) writeFileSync(o.out, `${serializeEdits(edits, o.modelName)}\n`);
  const edited = applyEdits(model, edits);
  const ck = editedCheckpoint(model.config, o.files.weights, edits);
  const enabledIdx = edits.map((e, i) => (e.enabled === false ? -1 : i)).filter((i) => i >= 0);
  const summary = edits.map((e, i) => {
    const k = enabledIdx.indexOf(i);
    return {
      index: i,
      kind: e.kind,
      edit: describeEdit(e),
      enabled: e.enabled !== false,
      learned_now: learned.includes(i),
      weight_change: k >= 0 && ck.weightEdits.includes(k),
    };
  });
  try {
    const result: Record<string, unknown> = { mode: "stack", edits: summary, learned_edits: edits };
    if (o.evaluate) result.eval = await evaluateStack(engine, edited, edits, dataset);
    if (o.alphas) result.alpha_curves = await stackAlphaCurves(engine, edits, o.alphas, dataset);
    if (o.save) {
      makeSaveDir(o.save);
      const bytes = writeSafetensors(ck.tensors, { format: "pt", edited_by: "causeway" });
      writeFileSync(path.join(o.save, "model.safetensors"), bytes);
      // the same config.json, saying float32 where the input was BF16 / F16 (the file is F32)
      const cfg = JSON.parse(readFileSync(path.join(o.modelDir, "config.json"), "utf8"));
      writeFileSync(
        path.join(o.save, "config.json"),
        `${JSON.stringify(editedConfigJson(cfg), null, 2)}\n`,
      );
      copyFileSync(path.join(o.modelDir, "tokenizer.json"), path.join(o.save, "tokenizer.json"));
      result.saved = {
        dir: path.resolve(o.save),
        files: ["config.json", "model.safetensors", "tokenizer.json"],
        notes: checkpointNotes(cfg),
        weight_edits: ck.weightEdits.map((k) => enabledIdx[k]),
        not_weight_changes: ck.notWeightEdits.map((n) => ({ ...n, index: enabledIdx[n.index] })),
      };
    }
    return result;
  } finally {
    edited.dispose();
  }
}
