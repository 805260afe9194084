/**
 * The inputs of `causeway edit` (and of --edits in predict, trace and generate): edit files,
 * the model's dataset.json, the learned and applied stack of an --edits file, and the list flags
 * (--alphas, --counterfact). User errors are one-line usage errors (exit code 2).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import {
  applyEdits,
  describeEdit,
  type Edit,
  type EditDataset,
  EditError,
  type EditedModel,
  learnStack,
  parseEditDataset,
  parseEditFile,
} from "../edit";
import type { Engine } from "../engine";
import { importCorpus, importDatasetJson } from "../load/dataset-import";
import { MAX_DATASET_BYTES } from "../load/limits";
import { UsageError } from "./args";
import { resolveModel } from "./model-source";

/** User errors in edit files and datasets exit with code 2, one line. */
export function asUsage(err: unknown): never {
  if (err instanceof EditError) throw new UsageError(err.message);
  throw err;
}

function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) throw new UsageError(`${what} ${file} does not exist`);
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`${what} ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * The editing data: the model folder's dataset.json, with --dataset (a dataset.json replaces it;
 * CounterFact, zsRE or known_1000 cases replace those keys) and --corpus (plain text or a prompt
 * set: the general text, hence C and the loss ratio) over it (lib/load/dataset-import.ts).
 */
export function loadDataset(
  modelDir: string,
  file?: string,
  corpus?: string,
): EditDataset | undefined {
  const own = path.join(modelDir, "dataset.json");
  try {
    let data = existsSync(own) ? parseEditDataset(readJson(own, "dataset"), own) : undefined;
    if (file) {
      const { format, data: extra } = importDatasetJson(file, readText(file, "dataset"));
      data = format === "dataset" ? extra : { ...data, ...extra };
    }
    if (corpus) data = { ...data, general_text: importCorpus(corpus, readText(corpus, "corpus")) };
    return data;
  } catch (e) {
    asUsage(e);
  }
}

function readText(file: string, what: string): string {
  if (!existsSync(file)) throw new UsageError(`${what} ${file} does not exist`);
  const size = statSync(file).size;
  if (size > MAX_DATASET_BYTES) {
    throw new UsageError(`${what} ${file} is larger than ${MAX_DATASET_BYTES / 1024 ** 2} MiB`);
  }
  return readFileSync(file, "utf8");
}

export function readEditFile(file: string): Edit[] {
  try {
    return parseEditFile(readJson(file, "edit file")).edits;
  } catch (e) {
    asUsage(e);
  }
}

export const progress = (quiet: boolean) => (line: string) => {
  if (!quiet) process.stderr.write(`${line}\n`);
};

/**
 * For `causeway predict --edits`: the stack learned (if needed) and applied to the engine's
 * model; the caller disposes it.
 */
export async function editedFromFile(
  engine: Engine,
  modelSpec: string,
  file: string,
  quiet = true,
): Promise<EditedModel> {
  const dataset = loadDataset(resolveModel(modelSpec).dir);
  const log = progress(quiet);
  const { edits } = await learnStack(engine.model, engine.tokenizer, readEditFile(file), {
    dataset,
    onEdit: (i, phase, e) => phase === "start" && log(`learning edit ${i}: ${describeEdit(e)}`),
  }).catch(asUsage);
  try {
    return applyEdits(engine.model, edits);
  } catch (e) {
    asUsage(e);
  }
}

export function parseAlphas(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const a = v.split(",").map((x) => Number(x.trim()));
  if (a.length === 0 || a.some((x) => !Number.isFinite(x) || v.trim() === "")) {
    throw new UsageError(`--alphas must be numbers separated by commas, got "${v}"`);
  }
  return a;
}

export function parseCases(spec: string, n: number, flag = "--counterfact"): number[] {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new UsageError(`${flag} must be N (the first N cases) or A:B, got "${spec}"`);
  const [a, b] = m[2] === undefined ? [0, Number(m[1])] : [Number(m[1]), Number(m[2])];
  if (!(b > a)) {
    throw new UsageError(
      m[2] === undefined
        ? `${flag} ${spec}: give at least 1 case`
        : `${flag} ${spec}: the range A:B is empty (B must be above A; cases A to B − 1)`,
    );
  }
  if (b > n) throw new UsageError(`${flag} ${spec}: the dataset has ${n} cases`);
  return Array.from({ length: b - a }, (_, i) => a + i);
}
