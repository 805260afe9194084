/**
 * zsRE-style evaluation (kmeng01/rome experiments/py/eval_utils_zsre.py, dsets/zsre.py): token
 * accuracy, the share of the new answer's tokens that the model predicts top-1 with the answer's
 * earlier tokens given (teacher forcing), on the question (efficacy), on its rephrasing
 * (paraphrase), and, for the neighbourhood, the share of an unrelated question's answer tokens
 * still predicted top-1 (its answer being what the unedited model says).
 *
 * The records are MEND's zsre_mend_eval.json fields, which ROME reads: subject, src (the
 * question), rephrase, answers, alt, loc, loc_ans. The edit's target: `alt` when given (MEND's
 * edit target), else answers[0] (ROME, whose GPT-2 XL rarely knew the answers). Deviations from
 * ROME, both for lack of a string round trip: the answer prefix is given as token ids rather than
 * decoded and re-encoded into the prompt, and "?" is appended to `loc` only when it starts with
 * "nq question:" (ROME appends it always: NQ questions have none; ours end in "A:").
 */
import type { TextTokenizer } from "../util/tokenizer";
import type { ModelLike } from "./apply";
import { tokenTop1 } from "./metrics";
import { continuationIds } from "./tokens";
import { EditError } from "./types";

export interface ZsreRecord {
  case_id?: number;
  subject: string;
  src: string;
  rephrase: string;
  answers: string[];
  alt?: string;
  loc: string;
  loc_ans: string;
  pred?: string;
  relation_id?: string;
}

/** A zsRE rewrite ready to edit and score. */
export interface ZsreCase {
  case_id: number;
  /** The question with "{}" for the subject (ROME: src.replace(subject, "{}")). */
  template: string;
  subject: string;
  target_new: string;
  target_true?: string;
  paraphrase_prompts: string[];
  neighborhood: { prompt: string; target: string };
}

export function zsreCase(r: ZsreRecord, index: number): ZsreCase {
  const at = r.src.indexOf(r.subject);
  if (r.subject === "" || at < 0) {
    throw new EditError(
      "bad_dataset",
      `zsre case ${r.case_id ?? index}: the subject ${JSON.stringify(r.subject)} is not in its question ${JSON.stringify(r.src)}`,
    );
  }
  const target = r.alt && r.alt.trim() !== "" ? r.alt : r.answers[0];
  if (!target || target.trim() === "") {
    throw new EditError("bad_dataset", `zsre case ${r.case_id ?? index}: no alt or answers[0]`);
  }
  const loc = r.loc.startsWith("nq question:") ? `${r.loc}?` : r.loc;
  return {
    case_id: r.case_id ?? index,
    template: `${r.src.slice(0, at)}{}${r.src.slice(at + r.subject.length)}`,
    subject: r.subject,
    target_new: target.trim(),
    target_true: r.alt ? r.answers[0]?.trim() : undefined,
    paraphrase_prompts: [r.rephrase],
    neighborhood: { prompt: loc, target: r.loc_ans.trim() },
  };
}

export interface ZsreScores {
  case_id: number;
  /** Token accuracy of the new answer after the question, its rephrasings, and the neighbour's. */
  efficacy: number;
  paraphrase: number;
  neighborhood: number;
}

/** Teacher-forced rows: prompt ids + answer ids but the last, with the answer's positions. */
function answerRows(tok: TextTokenizer, prompt: string, answer: string) {
  const ids = tok.encode(prompt);
  const t = continuationIds(tok, prompt, answer);
  return {
    row: [...ids, ...t.slice(0, -1)],
    positions: t.map((_, j) => ids.length - 1 + j),
    targets: t,
  };
}

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

export async function zsreScores(
  model: ModelLike,
  tok: TextTokenizer,
  c: ZsreCase,
): Promise<ZsreScores> {
  const prompt = c.template.replace("{}", c.subject);
  const parts = [
    ...[prompt, ...c.paraphrase_prompts].map((p) => answerRows(tok, p, c.target_new)),
    answerRows(tok, c.neighborhood.prompt, c.neighborhood.target),
  ];
  const hits = await tokenTop1(
    model,
    parts.map((p) => p.row),
    parts.map((p) => p.positions),
    parts.map((p) => p.targets),
  );
  const para = hits.slice(1, -1).flat();
  return {
    case_id: c.case_id,
    efficacy: mean(hits[0]),
    paraphrase: para.length ? mean(para) : Number.NaN,
    neighborhood: mean(hits[hits.length - 1]),
  };
}
