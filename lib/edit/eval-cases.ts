/**
 * The cases a batch or sequential editing run edits and scores: CounterFact cases (scored with
 * ROME's probability comparisons, magnitudes and generation fluency) and zsRE cases (token
 * accuracy), each with the rewrite request that an editor carries out.
 */
import type { TextTokenizer } from "../util/tokenizer";
import type { ModelLike } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import type { CounterFactCase, EditDataset } from "./dataset";
import { type FluencyOptions, fluencyOfLists } from "./eval-fluency";
import { type ZsreCase, zsreCase, zsreScores } from "./eval-zsre";
import { casesScores, meanField, rateSummary, rewriteCase } from "./metrics";
import { EditError } from "./types";

/** One requested rewrite, in ROME's fields (prompt with "{}" for the subject). */
export interface EditRequest {
  case_id: number;
  prompt: string;
  subject: string;
  target_new: string;
  target_true?: string;
}

export type EvalCase =
  | { suite: "counterfact"; request: EditRequest; cf: CounterFactCase }
  | { suite: "zsre"; request: EditRequest; zsre: ZsreCase };

export type Suite = EvalCase["suite"];

export function counterfactCase(cf: CounterFactCase): EvalCase {
  const r = cf.requested_rewrite;
  return {
    suite: "counterfact",
    cf,
    request: {
      case_id: cf.case_id,
      prompt: r.prompt,
      subject: r.subject,
      target_new: r.target_new.str,
      target_true: r.target_true.str,
    },
  };
}

export function zsreEvalCase(z: ZsreCase): EvalCase {
  return {
    suite: "zsre",
    zsre: z,
    request: {
      case_id: z.case_id,
      prompt: z.template,
      subject: z.subject,
      target_new: z.target_new,
      ...(z.target_true ? { target_true: z.target_true } : {}),
    },
  };
}

/** The dataset's cases of a suite at the given indices. */
export function suiteCases(dataset: EditDataset | undefined, suite: Suite): EvalCase[] {
  if (suite === "counterfact") return (dataset?.counterfact ?? []).map(counterfactCase);
  return (dataset?.zsre ?? []).map((r, i) => zsreEvalCase(zsreCase(r, i)));
}

/** Per-case scores: the three rates, and for CounterFact the magnitudes and fluency. */
export interface CaseResult {
  case_id: number;
  efficacy: number;
  paraphrase: number | null;
  neighborhood: number | null;
  efficacy_diff?: number;
  paraphrase_diff?: number | null;
  neighborhood_diff?: number | null;
  /** ROME's weighted bi/tri-gram entropy of the generations (CounterFact, when measured). */
  fluency?: number;
}

/** Cases whose probabilities are scored together (progress and cancel come between these). */
const CASES_PER_PASS = 25;

/**
 * Every case's scores: the CounterFact probabilities of up to CASES_PER_PASS cases at once (their
 * rows grouped by token length, unpadded: metrics.ts casesScores), zsRE case by case, then the
 * fluency of all the cases' generation prompts together (generated in batches of one token
 * length, each prompt seeded as it would be in its case alone). The same numbers as scoring each
 * case alone, in a fraction of the passes.
 */
export async function scoreCases(
  model: ModelLike,
  tok: TextTokenizer,
  cases: readonly EvalCase[],
  fluency: FluencyOptions | null,
  watch: { signal?: CancelSignal; onCase?: (i: number) => void } = {},
): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (let s = 0; s < cases.length; s += CASES_PER_PASS) {
    await checkLearningCancelled(watch.signal);
    watch.onCase?.(s);
    out.push(...(await probabilityScores(model, tok, cases.slice(s, s + CASES_PER_PASS))));
  }
  if (!fluency) return out;
  const lists = cases.map((c) =>
    c.suite === "counterfact" ? (c.cf.generation_prompts ?? []) : [],
  );
  const scored = lists.flatMap((ps, i) => (ps.length > 0 ? [i] : []));
  const entropies = await fluencyOfLists(
    model,
    tok,
    scored.map((i) => lists[i]),
    fluency,
    watch.signal,
  );
  scored.forEach((i, j) => {
    out[i].fluency = entropies[j];
  });
  return out;
}

async function probabilityScores(
  model: ModelLike,
  tok: TextTokenizer,
  cases: readonly EvalCase[],
): Promise<CaseResult[]> {
  const cf = cases.flatMap((c) => (c.suite === "counterfact" ? [c.cf] : []));
  const scores = await casesScores(model, tok, cf.map(rewriteCase));
  const out: CaseResult[] = [];
  for (const c of cases) {
    if (c.suite === "zsre") {
      const z = await zsreScores(model, tok, c.zsre);
      out.push({ ...z, paraphrase: Number.isNaN(z.paraphrase) ? null : z.paraphrase });
      continue;
    }
    const s = scores[cf.indexOf(c.cf)];
    out.push({
      case_id: c.cf.case_id,
      efficacy: s.efficacy,
      paraphrase: s.paraphrase,
      neighborhood: s.neighborhood,
      efficacy_diff: s.efficacy_diff,
      paraphrase_diff: s.paraphrase_diff,
      neighborhood_diff: s.neighborhood_diff,
    });
  }
  return out;
}

/** Scores averaged over cases (ROME's summarize: per-case means, then the mean over cases). */
export interface SuiteScores {
  n_cases: number;
  efficacy: number;
  paraphrase: number | null;
  neighborhood: number | null;
  /** Harmonic mean of the three rates (those present). */
  score: number;
  efficacy_diff: number | null;
  paraphrase_diff: number | null;
  neighborhood_diff: number | null;
  fluency: number | null;
}

export function summarise(cases: readonly CaseResult[]): SuiteScores {
  if (cases.length === 0) throw new EditError("bad_dataset", "no cases to summarise");
  return { ...rateSummary(cases), fluency: meanField(cases, "fluency") };
}
