/**
 * SentencePiece-style ("▁") BPE with byte fallback and a BOS from the post-processor, in Llama 2's
 * tokenizer.json layout and in the newer Metaspace layout. Ids, display texts and subject spans
 * come from an independent Python encoder written from the format's definition
 * (scripts/reference/make_sentencepiece_fixture.py → test/fixtures/tokenizers/).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { subjectPrompt } from "../lib/edit/tokens";
import { Engine } from "../lib/engine";
import { findSubjectRange } from "../lib/interp/tokens";
import { TextTokenizer } from "../lib/load/tokenizer";
import { matchTexts } from "../lib/util/tokenizer";

const DIR = path.resolve(import.meta.dirname, "fixtures/tokenizers");

interface Case {
  text: string;
  ids: number[];
  pieces: string[];
  texts: string[];
  subject?: string;
  subject_range?: [number, number];
}
const fixture = JSON.parse(readFileSync(path.join(DIR, "sp-cases.json"), "utf8")) as {
  cases: Record<string, Case[]>;
  bos_id: number;
};
const BOS = fixture.bos_id;
const load = (layout: string) =>
  TextTokenizer.fromJson(readFileSync(path.join(DIR, `sp-${layout}/tokenizer.json`), "utf8"));

describe.each(["llama2", "metaspace"])("SentencePiece tokenizer (%s layout)", (layout) => {
  const tok = load(layout);
  const cases = fixture.cases[layout];

  it("finds the BOS in the post-processor and puts it before every prompt, not a continuation", () => {
    expect(tok.prefixIds).toEqual([BOS]);
    expect(tok.encode("Velmo")[0]).toBe(BOS);
    expect(tok.encodeContinuation(" Velmo")).not.toContain(BOS);
    expect(tok.encode("")).toEqual([]);
    expect(tok.isSpecial(BOS)).toBe(true);
    expect(tok.isSpecial(tok.encodeContinuation("a")[0])).toBe(false);
  });

  it("gives the Python encoder's ids, byte fallback included", () => {
    expect(cases.some((c) => c.pieces.includes("<0xE2>"))).toBe(true);
    for (const c of cases) expect(tok.encode(c.text), c.text).toEqual(c.ids);
  });

  it("labels each token with its text in context: ▁ as a space, bytes joined into characters", () => {
    for (const c of cases) expect(tok.tokenTexts(c.ids), c.text).toEqual(c.texts);
    // decoded one by one, the decoder would strip each token's leading space
    const one = cases[0];
    expect(one.ids.slice(1).map((id) => tok.tokenText(id))).not.toEqual(one.texts.slice(1));
  });

  it("gives the engine's token strip the same labels (Engine.tokenize)", () => {
    const model = { config: { nCtx: 64, vocabSize: tok.vocabSize }, nParams: 0 };
    // biome-ignore lint/suspicious/noExplicitAny: tokenize reads only model.config
    const engine = Engine.fromModel("sp", model as any, tok);
    for (const c of cases)
      expect(engine.tokenize(c.text), c.text).toEqual({ ids: c.ids, tokens: c.texts });
  });

  it("decodes a prompt's ids back to its text", () => {
    // HF's Metaspace decoder strips the first space even when it was the text's own (as in Rust)
    const lossless = cases.filter((c) => layout === "llama2" || !c.text.startsWith(" "));
    expect(lossless.length).toBeGreaterThan(cases.length - 2);
    for (const c of lossless) expect(tok.decode(c.ids.slice(1)), c.text).toBe(c.text);
  });

  it("finds the subject's span after the BOS, as the Python reference does", () => {
    for (const c of cases.filter((x) => x.subject)) {
      const range = findSubjectRange(matchTexts(tok, c.ids), c.subject as string);
      expect(range, c.text).toEqual(c.subject_range);
      expect(range[0]).toBeGreaterThan(0);
    }
  });

  it("puts ROME's subject_last on the subject's last token, BOS counted", () => {
    for (const c of cases.filter((x) => x.subject)) {
      const subject = c.subject as string;
      const template = c.text.replace(subject, "{}");
      const p = subjectPrompt(tok, template, subject);
      expect(p.ids, c.text).toEqual(c.ids);
      expect(p.subjectLast, c.text).toBe((c.subject_range as [number, number])[1] - 1);
    }
  });
});

describe("add_bos_token from tokenizer_config.json", () => {
  const cases = fixture.cases.llama2;
  const json = readFileSync(path.join(DIR, "sp-llama2/tokenizer.json"), "utf8");

  it("false drops the post-processor's BOS; true keeps it", () => {
    expect(TextTokenizer.fromJson(json, { addBosToken: false }).encode("a")).toEqual(
      cases.at(-1)?.ids.slice(1),
    );
    expect(TextTokenizer.fromJson(json, { addBosToken: true }).prefixIds).toEqual([BOS]);
  });

  it("true adds bos_token to a file without a post-processor, and names a missing one", () => {
    const bare = { ...JSON.parse(json), post_processor: null };
    expect(TextTokenizer.fromJson(bare).prefixIds).toEqual([]);
    expect(TextTokenizer.fromJson(bare, { addBosToken: true, bosToken: "<s>" }).prefixIds).toEqual([
      BOS,
    ]);
    expect(() => TextTokenizer.fromJson(bare, { addBosToken: true, bosToken: "<bos>" })).toThrow(
      /add_bos_token is true but the bos_token "<bos>" is not in the vocabulary/,
    );
  });
});
