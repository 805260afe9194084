/**
 * The parts of a model's dataset.json that editing reads: CounterFact cases (ROME's format),
 * general text (the deviation measure), and prompt sets for steering and ablation.
 */
import type { ZsreRecord } from "./eval-zsre";
import { isObj } from "./parse-checker";
import { EditError, type PromptSet, type RomeEdit } from "./types";

/** One CounterFact case (ROME's counterfact.json; target strings without the leading space). */
export interface CounterFactCase {
  case_id: number;
  requested_rewrite: {
    prompt: string;
    subject: string;
    relation_id?: string;
    target_new: { str: string; id?: string };
    target_true: { str: string; id?: string };
  };
  paraphrase_prompts: string[];
  neighborhood_prompts: string[];
  attribute_prompts?: string[];
  generation_prompts?: string[];
}

/** The subset of dataset.json used here (every field optional). */
export interface EditDataset {
  counterfact?: CounterFactCase[];
  general_text?: string[];
  absc?: {
    labels: string[];
    train: { prompt: string; label: string }[];
    test: { prompt: string; label: string }[];
  };
  known_facts?: { prompt: string; attribute?: string; relation_id?: string }[];
  consistency?: { prompts: string[]; relation_id?: string }[];
  /** zsRE rewrites in MEND's zsre_mend_eval.json fields (lib/edit/eval-zsre.ts). */
  zsre?: ZsreRecord[];
}

const isStrings = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((s) => typeof s === "string");

/** Checks the fields this module reads; the rest of the file is left alone. */
export function parseEditDataset(json: unknown, file = "dataset.json"): EditDataset {
  if (!isObj(json)) throw new EditError("bad_dataset", `${file} is not a JSON object`);
  const cf = json.counterfact;
  if (cf !== undefined) {
    if (!Array.isArray(cf))
      throw new EditError("bad_dataset", `${file}: counterfact is not a list`);
    cf.forEach((c, i) => {
      const r = isObj(c) ? c.requested_rewrite : undefined;
      const ok =
        isObj(c) &&
        isObj(r) &&
        typeof r.prompt === "string" &&
        r.prompt.includes("{}") &&
        typeof r.subject === "string" &&
        isObj(r.target_new) &&
        typeof r.target_new.str === "string" &&
        isObj(r.target_true) &&
        typeof r.target_true.str === "string" &&
        isStrings(c.paraphrase_prompts) &&
        isStrings(c.neighborhood_prompts);
      if (!ok) {
        throw new EditError(
          "bad_dataset",
          `${file}: counterfact[${i}] lacks requested_rewrite {prompt with {}, subject, target_new.str, target_true.str} or paraphrase/neighborhood prompts`,
        );
      }
    });
  }
  if (json.zsre !== undefined) checkZsre(json.zsre, file);
  if (json.general_text !== undefined && !isStrings(json.general_text)) {
    throw new EditError("bad_dataset", `${file}: general_text is not a list of strings`);
  }
  return json as EditDataset;
}

/** zsRE records: each needs subject, src, rephrase, answers, loc and loc_ans. */
export function checkZsre(zs: unknown, file: string): void {
  if (!Array.isArray(zs)) throw new EditError("bad_dataset", `${file}: zsre is not a list`);
  zs.forEach((z, i) => {
    const ok =
      isObj(z) &&
      typeof z.subject === "string" &&
      typeof z.src === "string" &&
      typeof z.rephrase === "string" &&
      isStrings(z.answers) &&
      (z.alt === undefined || typeof z.alt === "string") &&
      typeof z.loc === "string" &&
      typeof z.loc_ans === "string";
    if (!ok) {
      throw new EditError(
        "bad_dataset",
        `${file}: zsre[${i}] lacks subject, src, rephrase, answers (a list of strings), loc or loc_ans`,
      );
    }
    if (z.subject === "" || !(z.src as string).includes(z.subject as string)) {
      throw new EditError(
        "bad_dataset",
        `${file}: zsre[${i}]: the subject ${JSON.stringify(z.subject)} is not in its question ${JSON.stringify(z.src)}`,
      );
    }
  });
}

/** A ROME edit recipe for a CounterFact case (evaluation reads the case by its id). */
export function romeEditForCase(c: CounterFactCase, layer?: number): RomeEdit {
  const r = c.requested_rewrite;
  return {
    kind: "rome",
    id: `rome-case-${c.case_id}`,
    site: layer === undefined ? {} : { layer },
    params: {
      prompt: r.prompt,
      subject: r.subject,
      target_new: r.target_new.str,
      target_true: r.target_true.str,
      case_id: c.case_id,
    },
  };
}

export function findCase(data: EditDataset | undefined, id: number): CounterFactCase {
  const c = data?.counterfact?.find((x) => x.case_id === id);
  if (!c) throw new EditError("bad_dataset", `no CounterFact case ${id} in the dataset`);
  return c;
}

/** The prompts of a prompt set. */
export function resolvePromptSet(set: PromptSet, data: EditDataset | undefined): string[] {
  if (Array.isArray(set)) {
    if (!isStrings(set) || set.length === 0) {
      throw new EditError("bad_edit", "a prompt set must be a non-empty list of strings");
    }
    return set;
  }
  const need = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) {
      throw new EditError(
        "bad_dataset",
        `the prompt set needs dataset.json's ${what}: give the dataset`,
      );
    }
    return x;
  };
  let prompts: string[];
  switch (set.dataset) {
    case "absc": {
      const absc = need(data?.absc, "absc");
      const rows = set.split === "test" ? absc.test : absc.train;
      prompts = rows
        .filter((r) => set.label === undefined || r.label === set.label)
        .map((r) => r.prompt);
      break;
    }
    case "general_text":
      prompts = [...need(data?.general_text, "general_text")];
      break;
    case "known_facts":
      prompts = need(data?.known_facts, "known_facts")
        .filter((f) => set.relation === undefined || f.relation_id === set.relation)
        .map((f) => f.prompt);
      break;
    case "consistency":
      prompts = need(data?.consistency, "consistency")
        .filter((f) => set.relation === undefined || f.relation_id === set.relation)
        .flatMap((f) => f.prompts);
      break;
    default:
      throw new EditError(
        "bad_edit",
        `unknown prompt-set dataset ${JSON.stringify((set as { dataset: unknown }).dataset)}`,
      );
  }
  if (set.limit !== undefined) prompts = prompts.slice(0, set.limit);
  if (prompts.length === 0)
    throw new EditError("bad_edit", `prompt set ${JSON.stringify(set)} is empty`);
  return prompts;
}
