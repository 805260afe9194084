/**
 * The bundled tiny-facts-llama: its tokenizer (tiny-facts' byte-level BPE plus a Llama 3-style
 * BOS from the post-processor) gives the Python encoder's ids (scripts/tiny-facts/bos_tokenizer.py
 * → test/fixtures/tiny-facts-llama/tokenization.json); subject spans skip the BOS; and the model,
 * loaded as the app loads it, gives the numpy reference's logits
 * (scripts/tiny-facts/check_llama_ref.py → test/fixtures/tiny-facts-llama/golden.json).
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { subjectPrompt } from "../lib/edit/tokens";
import { Engine } from "../lib/engine";
import { subjectRange, targetIds } from "../lib/interp/tokens";
import { directorySource } from "../lib/load/node-source";
import { TextTokenizer } from "../lib/load/tokenizer";
import { selectBackend } from "../lib/model/backend";
import { lastLogitsError } from "./helpers/last-logits";

const ROOT = path.resolve(import.meta.dirname, "..");
const MODEL_DIR = path.join(ROOT, "public/models/tiny-facts-llama");
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

interface GoldenCase {
  prompt: string;
  subject: string;
  ids: number[];
  subject_range: [number, number];
  top: { id: number; logit: number }[];
  logits_last: number[];
}
const golden = readJson<{ cases: GoldenCase[] }>(
  path.join(ROOT, "test/fixtures/tiny-facts-llama/golden.json"),
);
const fixture = readJson<{ cases: { text: string; ids: number[] }[] }>(
  path.join(ROOT, "test/fixtures/tiny-facts-llama/tokenization.json"),
);
const config = readJson<{ bos_token_id: number; eos_token_id: number; model_type: string }>(
  path.join(MODEL_DIR, "config.json"),
);
const tok = TextTokenizer.fromJson(readFileSync(path.join(MODEL_DIR, "tokenizer.json"), "utf8"));

describe("tiny-facts-llama tokenizer", () => {
  it("puts config.json's BOS before every prompt, from the post-processor", () => {
    expect(config.model_type).toBe("llama");
    expect(tok.prefixIds).toEqual([config.bos_token_id]);
    expect(tok.isSpecial(config.bos_token_id)).toBe(true);
    expect(tok.eosId).toBe(config.eos_token_id);
  });

  it("matches the Python encoder's ids on every fixture string", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(40);
    for (const c of fixture.cases) {
      // the Python encoder gives [BOS] for ""; the app gives [] (an empty prompt is refused)
      const want = c.text === "" ? [] : c.ids;
      expect(tok.encode(c.text), JSON.stringify(c.text)).toEqual(want);
    }
  });

  it("encodes targets without the BOS, one token per object", () => {
    const dataset = readJson<{ relations: { objects: string[] }[] }>(
      path.join(MODEL_DIR, "dataset.json"),
    );
    for (const o of dataset.relations.flatMap((r) => r.objects)) {
      expect(tok.encodeContinuation(o), o).toHaveLength(1);
    }
  });

  it("finds the subject after the BOS, and ROME's subject_last on its last token", () => {
    const host = { model: { config: { vocabSize: tok.vocabSize, nCtx: 64 } }, tokenizer: tok };
    for (const c of golden.cases) {
      const ids = tok.encode(c.prompt);
      expect(ids).toEqual(c.ids);
      // biome-ignore lint/suspicious/noExplicitAny: subjectRange reads only model.config
      expect(subjectRange(host as any, ids, c.subject)).toEqual(c.subject_range);
      const p = subjectPrompt(tok, c.prompt.replace(c.subject, "{}"), c.subject);
      expect(p.ids).toEqual(c.ids);
      expect(p.subjectLast).toBe(c.subject_range[1] - 1);
      // biome-ignore lint/suspicious/noExplicitAny: targetIds reads only model.config
      expect(targetIds(host as any, ids, "Parrow")).toEqual(tok.encodeContinuation(" Parrow"));
    }
  });

  it("labels the token strip with the BOS and each token's text", () => {
    const ids = golden.cases[0].ids;
    const texts = tok.tokenTexts(ids);
    expect(texts[0]).toBe("<|begin_of_text|>");
    expect(texts.slice(1).join("")).toBe(golden.cases[0].prompt);
  });
});

describe("tiny-facts-llama model", () => {
  beforeAll(async () => {
    await selectBackend(["cpu"]);
  });

  it("loads from its folder and gives the numpy reference's logits (within 1e-4)", async () => {
    const engine = await Engine.load(directorySource(MODEL_DIR), "tiny-facts-llama");
    try {
      for (const c of golden.cases) {
        expect(engine.tokenize(c.prompt).ids).toEqual(c.ids);
        expect(await lastLogitsError(engine, c.ids, c.logits_last), c.prompt).toBeLessThan(1e-4);
      }
    } finally {
      engine.dispose();
    }
  });
});
