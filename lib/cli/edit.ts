/**
 * `causeway edit`: apply a stack of edits (docs/edits.md), learning what they lack, and measure.
 *
 *   causeway edit --model M --edit edits.json [--eval] [--alphas 0,2,4] [--save DIR [--force]] [--out learned.json]
 *     [--dataset file] [--backend wasm|cpu] [--quiet] --json
 *   causeway edit --model M --counterfact N|A:B [--layer L] [--steps 20] [--cov identity|general_text|general_text+facts]
 *     [--shrinkage 0.01] [--update-key bare|mean] [--prefixes 5] [--texts 100] [--params JSON]
 *     [--backend wasm|cpu] --json
 * (--params: any ROME parameters as JSON, e.g. '{"lr": 2, "clamp": 8}'; the flags win over it)
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
 * CounterFact mode is ROME's evaluation: every case is edited on its own (the original model,
 * one edit), scored, and the scores are averaged (efficacy, paraphrase, neighbourhood, their
 * harmonic mean, the general-text loss ratio over the first --texts general texts, default 100),
 * with the unedited model's scores for reference.
 *
 * Progress (ROME's steps) goes to stderr unless --quiet.
 */
import { copyFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  aggregateScores,
  applyEdits,
  type CaseScores,
  COV_SOURCES,
  type CovSource,
  caseScores,
  computeRome,
  describeEdit,
  type Edit,
  type EditDataset,
  editedCheckpoint,
  generalTextLoss,
  learnStack,
  parseEdit,
  type RomeEdit,
  rewriteCase,
  romeEditForCase,
  serializeEdits,
  writeSafetensors,
} from "../edit";
import { evaluateStack, stackAlphaCurves } from "../edit/evaluate";
import { Engine } from "../engine";
import { loadModelFiles } from "../load/model-files";
import { selectBackend } from "../model/backend";
import { Gpt2Model } from "../model/gpt2";
import { EDIT_PARAMS, EDIT_RUN_PARAMS } from "../params/table";
import { intFlag, paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import "../model/backends-node";
import {
  asUsage,
  loadDataset,
  parseAlphas,
  parseCases,
  progress,
  readEditFile,
} from "./edit-inputs";
import { backendOrder } from "./engine";
import { resolveModel } from "./model-source";
import { checkSaveDir, makeSaveDir } from "./save-dir";

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

export const editCommand: Command = {
  name: "edit",
  usage:
    "causeway edit --model M (--edit edits.json [--eval] [--alphas 0,2,4] [--save DIR [--force]] [--out FILE] | --counterfact N|A:B [--layer L] [--steps 20] [--cov identity|general_text|general_text+facts] [--shrinkage 0.01] [--update-key bare|mean] [--prefixes 5] [--texts 100] [--params JSON]) [--dataset file] [--backend wasm|cpu] [--quiet] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      edit: { type: "string" },
      eval: { type: "boolean", default: false },
      alphas: { type: "string" },
      save: { type: "string" },
      force: { type: "boolean", default: false },
      out: { type: "string" },
      counterfact: { type: "string" },
      layer: { type: "string" },
      steps: { type: "string" },
      cov: { type: "string" },
      shrinkage: { type: "string" },
      "update-key": { type: "string" },
      prefixes: { type: "string" },
      texts: { type: "string" },
      params: { type: "string" },
      dataset: { type: "string" },
      backend: { type: "string" },
      quiet: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    });
    const modelSpec = requireString(flags, "model");
    const editFile = flags.edit as string | undefined;
    const cfSpec = flags.counterfact as string | undefined;
    if ((editFile === undefined) === (cfSpec === undefined)) {
      throw new UsageError("give --edit FILE or --counterfact N");
    }
    const order = backendOrder(flags.backend as string | undefined);
    const { name, source, dir } = resolveModel(modelSpec);
    if (typeof flags.save === "string") {
      checkSaveDir(flags.save, { sourceDir: dir, force: flags.force === true });
    }
    const dataset = loadDataset(dir, flags.dataset as string | undefined);
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
      if (cfSpec !== undefined) {
        const cov = flags.cov as string | undefined;
        if (cov !== undefined && !(COV_SOURCES as readonly string[]).includes(cov)) {
          throw new UsageError(`--cov must be one of ${COV_SOURCES.join(", ")}`);
        }
        const key = flags["update-key"] as string | undefined;
        if (key !== undefined && key !== "bare" && key !== "mean") {
          throw new UsageError("--update-key must be bare or mean");
        }
        let extra: Partial<RomeEdit["params"]> = {};
        if (typeof flags.params === "string") {
          try {
            extra = JSON.parse(flags.params);
          } catch (e) {
            throw new UsageError(`--params is not valid JSON (${(e as Error).message})`);
          }
          if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
            throw new UsageError("--params must be a JSON object of ROME parameters");
          }
        }
        const overrides = {
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
        const layer =
          flags.layer === undefined
            ? undefined
            : intFlag(flags, "layer", 0, 0, files.config.nLayer - 1);
        const nTexts = paramFlag(flags, "texts", EDIT_RUN_PARAMS.texts) as number;
        const r = await counterfactRun(
          engine,
          dataset,
          cfSpec,
          layer,
          overrides,
          nTexts,
          log,
        ).catch(asUsage);
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
    const f = (x: unknown) => (typeof x === "number" ? x.toFixed(3) : String(x));
    const lines: string[] = [];
    if (r.mode === "counterfact") {
      lines.push(
        `ROME on ${r.n_cases} CounterFact cases (layer ${r.layer}): efficacy ${f(r.efficacy)}, paraphrase ${f(r.paraphrase)}, neighbourhood ${f(r.neighborhood)}, score ${f(r.score)}, general-text loss ratio ${f(r.general_text_ratio)}`,
      );
      const pre = r.unedited as Record<string, unknown>;
      lines.push(
        `unedited: efficacy ${f(pre.efficacy)}, paraphrase ${f(pre.paraphrase)}, neighbourhood ${f(pre.neighborhood)}`,
      );
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

async function counterfactRun(
  engine: Engine,
  dataset: EditDataset | undefined,
  spec: string,
  layer: number | undefined,
  overrides: Partial<RomeEdit["params"]>,
  nTexts: number,
  log: (s: string) => void,
) {
  const cases = dataset?.counterfact;
  const texts = dataset?.general_text?.slice(0, nTexts);
  if (!cases || cases.length === 0) throw new UsageError("the dataset has no counterfact cases");
  const ids = parseCases(spec, cases.length);
  const model = engine.model;
  const tok = engine.tokenizer;
  const baseLoss = texts ? await generalTextLoss(model, tok, texts) : null;
  const edited: CaseScores[] = [];
  const unedited: CaseScores[] = [];
  const ratios: number[] = [];
  let usedLayer = layer;
  for (const [n, i] of ids.entries()) {
    const c = cases[i];
    const recipe = romeEditForCase(c, layer);
    recipe.params = { ...recipe.params, ...overrides };
    parseEdit(recipe); // checks the overrides' types
    const rc = rewriteCase(c);
    unedited.push(await caseScores(model, tok, rc));
    const r = await computeRome(model, tok, recipe, { dataset });
    usedLayer = r.edit.site.layer;
    const e = applyEdits(model, [r.edit]);
    try {
      const s = await caseScores(e, tok, rc);
      edited.push(s);
      if (baseLoss && texts)
        ratios.push(ratio((await generalTextLoss(e, tok, texts)).nll, baseLoss.nll));
      const info = r.edit.learned!.info!;
      log(
        `case ${c.case_id} (${n + 1}/${ids.length}): ${c.requested_rewrite.subject} → ${c.requested_rewrite.target_new.str}: ${info.losses.length} steps, loss ${info.losses.at(-1)!.loss.toFixed(3)}; efficacy ${s.efficacy}, paraphrase ${s.paraphrase?.toFixed(2)}, neighbourhood ${s.neighborhood?.toFixed(2)}`,
      );
    } finally {
      e.dispose();
    }
  }
  const a = aggregateScores(edited);
  const u = aggregateScores(unedited);
  return {
    mode: "counterfact",
    layer: usedLayer,
    settings: { ...overrides },
    ...a,
    general_text_ratio: ratios.length ? ratios.reduce((x, y) => x + y, 0) / ratios.length : null,
    general_text_nll: baseLoss?.nll ?? null,
    unedited: { ...u, cases: undefined },
  };
}

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
      for (const f of ["config.json", "tokenizer.json"]) {
        copyFileSync(path.join(o.modelDir, f), path.join(o.save, f));
      }
      result.saved = {
        dir: path.resolve(o.save),
        files: ["config.json", "model.safetensors", "tokenizer.json"],
        weight_edits: ck.weightEdits.map((k) => enabledIdx[k]),
        not_weight_changes: ck.notWeightEdits.map((n) => ({ ...n, index: enabledIdx[n.index] })),
      };
    }
    return result;
  } finally {
    edited.dispose();
  }
}
