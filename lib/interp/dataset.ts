/**
 * Dataset mode: causal traces over many facts in ROME's known-facts format, averaged into the
 * indirect effect by layer for ROME's token groups (its Figure 2 / average_causal_effects):
 *
 *   first_subject   the subject's first token               scores[b]
 *   middle_subject  its tokens strictly between first and last (each token one sample)
 *   last_subject    its last token                          scores[e − 1]
 *   first_after     the first token after the subject       scores[e]        (if e < T)
 *   further         tokens strictly between that and the last token (each one sample)
 *   last            the prompt's last token                 scores[T − 1]
 *
 * Each sample is an indirect effect IE[l] = scores[t][l] − low_score of its own prompt; a group's
 * curve is the mean over its samples with a 95% band mean ± 1.96 · sem (sem = sample std / √n;
 * 0 when n = 1). As ROME does, a fact is traced only if the model's clean top-1 token is the first
 * token of the fact's attribute; the others are skipped and counted (skipped_wrong). With
 * `answerAmong` (candidate answers, e.g. the ABSC labels) the rule is ABSC accuracy's instead: the
 * attribute's first token has the highest clean logit among the candidates' first tokens
 * (lib/edit/label-pick.ts), for a model that picks the right label but never ranks a label first
 * over the whole vocabulary. Facts whose subject is not in the prompt, or whose prompt does not
 * fit the context, are skipped_invalid. The target of every trace is the attribute's first token.
 */

import * as tf from "@tensorflow/tfjs";
import { pickAmong } from "../edit/label-pick";
import { now } from "../util/clock";
import type { CancelSignal } from "./cancel";
import { nextTick, throwIfCancelled } from "./cancel";
import { defaultWindow, type Strategy, TRACE_KINDS, TraceError, type TraceKind } from "./spec";
import { findSubjectRange, type TraceHost, targetIds, tokenTexts } from "./tokens";
import { runTrace, type TraceResult } from "./trace";

/** One entry of ROME's known_1000.json (and the bundled dataset.json's known_facts). */
export interface KnownFact {
  known_id?: number;
  subject: string;
  attribute: string;
  template?: string;
  prediction?: string;
  prompt: string;
  relation_id?: string;
}

export const TOKEN_GROUPS = [
  "first_subject",
  "middle_subject",
  "last_subject",
  "first_after",
  "further",
  "last",
] as const;
export type TokenGroup = (typeof TOKEN_GROUPS)[number];

export interface GroupCurve {
  group: TokenGroup;
  /** Samples averaged (tokens, over all traced facts). */
  n: number;
  /** Average indirect effect per layer, and its 95% band. */
  mean: number[];
  lo: number[];
  hi: number[];
}

export interface KindCurves {
  kind: TraceKind;
  window: number;
  groups: GroupCurve[];
  evaluations: number;
}

export interface DatasetResult {
  n_facts: number;
  /** Facts traced. */
  n_used: number;
  /**
   * Facts the model gets wrong: clean top-1 ≠ the attribute's first token, or with answer_among,
   * another candidate's first token has a higher logit than the attribute's.
   */
  skipped_wrong: number;
  /** Facts whose subject is not in the prompt, or that do not fit the context. */
  skipped_invalid: number;
  /** Mean clean probability of the answer, and mean corrupted probability. */
  avg_high_score: number;
  avg_low_score: number;
  /** The candidate answers the rule picked among (options.answerAmong); absent: the whole vocabulary. */
  answer_among?: string[];
  n_layer: number;
  samples: number;
  noise: number;
  seed: number;
  strategy: Strategy;
  kinds: Partial<Record<TraceKind, KindCurves>>;
  evaluations: number;
  ms: number;
}

export interface DatasetOptions {
  kinds?: TraceKind[];
  samples?: number;
  noise?: number;
  seed?: number;
  window?: number;
  strategy?: Strategy;
  /** Use at most this many facts (the first ones). */
  limit?: number;
  /**
   * Candidate answers: a fact counts as answered right when its attribute's first token has the
   * highest clean last-position logit among theirs (tokenised as the attribute is). Every
   * attribute must be one of them. Absent: the clean top-1 over the whole vocabulary.
   */
  answerAmong?: string[];
  signal?: CancelSignal;
  /** Called after each fact: done facts, total, and whether it was traced. */
  onFact?: (done: number, total: number, status: "used" | "wrong" | "invalid") => void;
}

/** Reads known facts from a dataset.json ({ known_facts: [...] }) or a bare array (known_1000.json). */
export function parseKnownFacts(json: unknown, file = "dataset"): KnownFact[] {
  const list = Array.isArray(json)
    ? json
    : json &&
        typeof json === "object" &&
        Array.isArray((json as { known_facts?: unknown }).known_facts)
      ? (json as { known_facts: unknown[] }).known_facts
      : null;
  if (!list)
    throw new TraceError(
      "bad_spec",
      `${file}: expected a list of known facts or { "known_facts": [...] }`,
    );
  return list.map((f, i) => {
    const o = f as Record<string, unknown>;
    for (const k of ["prompt", "subject", "attribute"]) {
      if (typeof o?.[k] !== "string") {
        throw new TraceError("bad_spec", `${file}: known fact ${i} has no string "${k}"`);
      }
    }
    return o as unknown as KnownFact;
  });
}

class Acc {
  readonly rows: Float64Array[] = [];
  add(v: ArrayLike<number>, low: number) {
    this.rows.push(Float64Array.from(v, (x) => x - low));
  }
  curve(group: TokenGroup, L: number): GroupCurve {
    const n = this.rows.length;
    const mean = new Array<number>(L).fill(0);
    const lo = new Array<number>(L).fill(0);
    const hi = new Array<number>(L).fill(0);
    for (let l = 0; l < L; l++) {
      if (n === 0) {
        mean[l] = lo[l] = hi[l] = Number.NaN;
        continue;
      }
      let s = 0;
      for (const r of this.rows) s += r[l];
      const m = s / n;
      let ss = 0;
      for (const r of this.rows) ss += (r[l] - m) ** 2;
      const sem = n > 1 ? Math.sqrt(ss / (n - 1)) / Math.sqrt(n) : 0;
      mean[l] = m;
      lo[l] = m - 1.96 * sem;
      hi[l] = m + 1.96 * sem;
    }
    return { group, n, mean, lo, hi };
  }
}

/** The candidates checked: at least two non-empty strings, every fact's attribute among them. */
function checkAmong(among: unknown, facts: readonly KnownFact[]): string[] {
  if (
    !Array.isArray(among) ||
    among.length < 2 ||
    !among.every((a) => typeof a === "string" && a !== "")
  ) {
    throw new TraceError("bad_spec", "answerAmong must list at least two non-empty answers");
  }
  const i = facts.findIndex((f) => !among.includes(f.attribute));
  if (i >= 0) {
    throw new TraceError(
      "bad_spec",
      `fact ${i}'s attribute ${JSON.stringify(facts[i].attribute)} is not one of the candidate answers ${JSON.stringify(among)}`,
    );
  }
  return among;
}

/** The candidates' first token ids after this prompt (as targetIds tokenises the attribute); distinct. */
function candidateIds(host: TraceHost, ids: number[], among: readonly string[]): number[] {
  const first = among.map((a) => targetIds(host, ids, a)[0]);
  if (new Set(first).size !== first.length) {
    throw new TraceError(
      "bad_spec",
      `the candidate answers ${JSON.stringify(among)} must start with different tokens`,
    );
  }
  return first;
}

/** Adds one trace's rows to ROME's token groups. */
function addTrace(acc: Record<TokenGroup, Acc>, r: TraceResult): void {
  const [b, e] = r.subject;
  const T = r.scores.length;
  const low = r.low;
  acc.first_subject.add(r.scores[b], low);
  for (let t = b + 1; t < e - 1; t++) acc.middle_subject.add(r.scores[t], low);
  acc.last_subject.add(r.scores[e - 1], low);
  if (e < T) acc.first_after.add(r.scores[e], low);
  for (let t = e + 1; t < T - 1; t++) acc.further.add(r.scores[t], low);
  acc.last.add(r.scores[T - 1], low);
}

export async function runTraceDataset(
  host: TraceHost,
  facts: KnownFact[],
  opts: DatasetOptions = {},
): Promise<DatasetResult> {
  const started = now();
  const { model } = host;
  const { nLayer: L, nCtx } = model.config;
  if (!host.tokenizer) throw new TraceError("bad_spec", "dataset mode needs the model's tokenizer");
  const kinds = opts.kinds ?? [...TRACE_KINDS];
  const list = opts.limit !== undefined ? facts.slice(0, opts.limit) : facts;
  const among = opts.answerAmong !== undefined ? checkAmong(opts.answerAmong, list) : null;
  const accs = Object.fromEntries(
    kinds.map((k) => [
      k,
      Object.fromEntries(TOKEN_GROUPS.map((g) => [g, new Acc()])) as Record<TokenGroup, Acc>,
    ]),
  ) as Record<TraceKind, Record<TokenGroup, Acc>>;
  const evals: Record<string, number> = {};
  const windows: Record<string, number> = {};
  let used = 0;
  let wrong = 0;
  let invalid = 0;
  let sumHigh = 0;
  let sumLow = 0;
  for (let i = 0; i < list.length; i++) {
    await nextTick();
    throwIfCancelled(opts.signal);
    const fact = list[i];
    let status: "used" | "wrong" | "invalid" = "used";
    const ids = host.tokenizer.encode(fact.prompt);
    let subject: [number, number] | null = null;
    try {
      if (ids.length === 0 || ids.length > nCtx) throw new TraceError("too_long", "");
      subject = findSubjectRange(tokenTexts(host, ids), fact.subject);
    } catch (err) {
      if (!(err instanceof TraceError)) throw err;
    }
    if (!subject) {
      invalid++;
      status = "invalid";
    } else {
      const expected = targetIds(host, ids, fact.attribute)[0];
      const pick = among ? candidateIds(host, ids, among) : null;
      const scores = tf.tidy(() => {
        const last = model
          .forward({ inputIds: [ids], logitPositions: "last" })
          .logits.reshape([-1]); // [V]
        return pick ? last.gather(pick) : last.argMax(); // [K] candidate logits, or [] top-1
      });
      let answer: number; // the token the rule says the model answers
      try {
        const data = await scores.data();
        answer = pick ? pick[pickAmong(data)] : data[0];
      } finally {
        scores.dispose();
      }
      if (answer !== expected) {
        wrong++;
        status = "wrong";
      } else {
        used++;
        let first = true;
        for (const kind of kinds) {
          const r = await runTrace(
            host,
            {
              prompt: ids,
              subject,
              target: expected,
              kind,
              samples: opts.samples,
              noise: opts.noise,
              seed: opts.seed,
              window: opts.window,
              strategy: opts.strategy,
            },
            { signal: opts.signal },
          );
          addTrace(accs[kind], r);
          evals[kind] = (evals[kind] ?? 0) + r.evaluations;
          windows[kind] = r.window;
          if (first) {
            sumHigh += r.high;
            sumLow += r.low;
            first = false;
          }
        }
      }
    }
    opts.onFact?.(i + 1, list.length, status);
  }
  const out: Partial<Record<TraceKind, KindCurves>> = {};
  for (const kind of kinds) {
    out[kind] = {
      kind,
      window: windows[kind] ?? opts.window ?? defaultWindow(L),
      groups: TOKEN_GROUPS.map((g) => accs[kind][g].curve(g, L)),
      evaluations: evals[kind] ?? 0,
    };
  }
  return {
    n_facts: list.length,
    n_used: used,
    skipped_wrong: wrong,
    skipped_invalid: invalid,
    avg_high_score: used ? sumHigh / used : Number.NaN,
    avg_low_score: used ? sumLow / used : Number.NaN,
    ...(among ? { answer_among: [...among] } : {}),
    n_layer: L,
    samples: opts.samples ?? 10,
    noise: opts.noise ?? 3,
    seed: opts.seed ?? 1,
    strategy: opts.strategy ?? "fast",
    kinds: out,
    evaluations: Object.values(evals).reduce((a, b) => a + b, 0),
    ms: now() - started,
  };
}
