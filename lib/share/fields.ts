/**
 * THE table of a session link: one row per field of SharedSession with its short key, codec
 * (type, range) and default. Encoding and decoding both walk this table, so a field cannot be
 * written without being read back (test/share-link.test.ts round-trips every row).
 *
 * A field equal to its default is left out of the link. Keys are part of link format v1: never
 * reuse or rename one (add a new key; retire old ones through ./migrate.ts).
 */
import { STRATEGIES, TRACE_KINDS } from "../interp/spec";
import { GENERATE_PARAMS, LIMITS, TRACE_PARAMS } from "../params/table";
import {
  bool,
  type Codec,
  carriedTrace,
  editList,
  int,
  kindList,
  modelSource,
  nullable,
  oneOf,
  param,
  range,
  record,
  text,
  viewId,
} from "./codecs";
import { headsView } from "./heads-codec";
import { sharedReadouts } from "./lens-codec";
import { sharedPatching } from "./patching-codec";
import { DEFAULT_SESSION, type SharedSession } from "./session";

export interface Field<K extends keyof SharedSession> {
  name: K;
  key: string;
  codec: Codec<SharedSession[K]>;
  /** What a link without this key means. */
  default: SharedSession[K];
  /** One line for docs/sharing.md and error messages. */
  doc: string;
}

type AnyField = { [K in keyof SharedSession]: Field<K> }[keyof SharedSession];

const f = <K extends keyof SharedSession>(
  name: K,
  key: string,
  codec: Codec<SharedSession[K]>,
  doc: string,
): Field<K> => ({ name, key, codec, default: DEFAULT_SESSION[name], doc });

export const MAX_TOKENS: number = LIMITS.tokens;

export const FIELDS: readonly AnyField[] = [
  f("model", "m", modelSource, "model source: bundled name, url (http/https) or hub repo"),
  f(
    "prompt",
    "p",
    text(),
    `the prompt (≤ ${LIMITS.promptChars.toLocaleString("en-US")} characters)`,
  ),
  f("subject", "s", text(2000), "the subject as typed or picked"),
  f("subjectRange", "r", nullable(range(MAX_TOKENS)), "picked subject tokens [b, e)"),
  f("target", "t", text(2000), "the trace target (empty: top-1)"),
  f("corruption", "c", oneOf(["noise", "prompt"] as const), "noise | prompt"),
  f("noise", "n", param(TRACE_PARAMS.noise), TRACE_PARAMS.noise.doc),
  f("samples", "ns", param(TRACE_PARAMS.samples), TRACE_PARAMS.samples.doc),
  f("seed", "sd", param(TRACE_PARAMS.seed), TRACE_PARAMS.seed.doc),
  f("counterfactual", "cf", text(), "counterfactual prompt"),
  f("window", "w", nullable(param(TRACE_PARAMS.window)), "mlp/attn window (null: the default)"),
  f("kinds", "k", kindList, `trace kinds (${TRACE_KINDS.join(", ")})`),
  f("strategy", "st", oneOf(STRATEGIES), "fast | naive"),
  f(
    "patch",
    "pa",
    record({ clean: text(), corrupt: text(), target: text(2000), foil: text(2000) }),
    "patching prompts, target and foil",
  ),
  f(
    "selectedHead",
    "h",
    nullable(record({ layer: int(0, 1000), head: int(0, 1000) })),
    "the head selected on the patching grid",
  ),
  f(
    "generation",
    "gn",
    record({
      maxNew: param(GENERATE_PARAMS.maxNew),
      sample: bool,
      seed: param(GENERATE_PARAMS.seed),
      temperature: param(GENERATE_PARAMS.temperature),
      topK: param(GENERATE_PARAMS.topK),
    }),
    "generation: greedy or sampled, with its seed, temperature and top-k",
  ),
  f("edits", "e", editList, "the edit stack (learned arrays in f16)"),
  f("trace", "g", nullable(carriedTrace), "the trace on screen (grids in f16)"),
  f("heads", "hv", nullable(headsView), "the all-heads view: pinned heads, the score table's sort"),
  f("readouts", "ro", nullable(sharedReadouts), "logit lens, DLA, attribution patching on screen"),
  f(
    "patching",
    "pv",
    nullable(sharedPatching),
    "by-position site; path patching's sender head, receiver inputs (q, k, v) and receiver set",
  ),
  f("view", "v", viewId, "the results tab on screen (trace, patch, …)"),
];

export const FIELD_KEYS: ReadonlySet<string> = new Set(FIELDS.map((x) => x.key));
