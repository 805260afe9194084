/**
 * The bundled tiny-facts tokenizer.json, read by @huggingface/tokenizers, gives exactly the ids
 * of the Python encoder that trained the model (scripts/tiny-facts/bpe.py), and the dataset's
 * invariants hold under it: every object and label is one token, every subject two or more.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const MODEL_DIR = path.join(ROOT, "public/models/tiny-facts");
const FIXTURE = path.join(ROOT, "test/fixtures/tiny-facts/tokenization.json");

interface Fixture {
  cases: { text: string; ids: number[] }[];
}
interface Dataset {
  relations: { relation_id: string; objects: string[] }[];
  subjects: { name: string }[];
  known_facts: { subject: string; attribute: string; prediction: string; prompt: string }[];
  counterfact: {
    requested_rewrite: {
      subject: string;
      target_new: { str: string };
      target_true: { str: string };
    };
  }[];
  absc: { labels: string[]; test: { label: string }[] };
  consistency: { prompts: string[]; answer: string }[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

describe("tiny-facts tokenizer", () => {
  let tokenizer: Tokenizer;
  let dataset: Dataset;
  const ids = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false }).ids;

  beforeAll(() => {
    expect(existsSync(path.join(MODEL_DIR, "tokenizer.json"))).toBe(true);
    tokenizer = new Tokenizer(readJson<object>(path.join(MODEL_DIR, "tokenizer.json")), {});
    dataset = readJson<Dataset>(path.join(MODEL_DIR, "dataset.json"));
  });

  it("matches the Python encoder's ids on every fixture string", () => {
    const { cases } = readJson<Fixture>(FIXTURE);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) expect(ids(c.text), JSON.stringify(c.text)).toEqual(c.ids);
  });

  it("decodes fixture ids back to the text", () => {
    // decode() rejects an empty id list, so the empty string is skipped.
    for (const c of readJson<Fixture>(FIXTURE).cases.filter((x) => x.ids.length > 0)) {
      expect(
        tokenizer.decode(c.ids, {
          skip_special_tokens: false,
          clean_up_tokenization_spaces: false,
        }),
      ).toBe(c.text);
    }
  });

  it("encodes every object, target and label as one token", () => {
    const single = [
      ...dataset.relations.flatMap((r) => r.objects),
      ...dataset.known_facts.flatMap((k) => [k.attribute, k.prediction]),
      ...dataset.counterfact.flatMap((c) => [
        ` ${c.requested_rewrite.target_new.str}`,
        ` ${c.requested_rewrite.target_true.str}`,
      ]),
      ...dataset.absc.labels,
      ...dataset.absc.test.map((r) => r.label),
      ...dataset.consistency.map((c) => c.answer),
    ];
    for (const text of new Set(single)) expect(ids(text), JSON.stringify(text)).toHaveLength(1);
  });

  it("splits every subject into two or more tokens, at the start and after a space", () => {
    const subjects = new Set([
      ...dataset.subjects.map((s) => s.name),
      ...dataset.known_facts.map((k) => k.subject),
      ...dataset.counterfact.map((c) => c.requested_rewrite.subject),
    ]);
    for (const s of subjects) {
      expect(ids(s).length, s).toBeGreaterThanOrEqual(2);
      expect(ids(` ${s}`).length, s).toBeGreaterThanOrEqual(2);
    }
  });

  it("has the GPT-2 structure: byte-level BPE with <|endoftext|> last", () => {
    const json = readJson<{
      model: { type: string; vocab: Record<string, number>; merges: string[] };
      pre_tokenizer: { type: string; add_prefix_space: boolean };
      added_tokens: { id: number; content: string }[];
    }>(path.join(MODEL_DIR, "tokenizer.json"));
    const config = readJson<{ vocab_size: number; eos_token_id: number }>(
      path.join(MODEL_DIR, "config.json"),
    );
    expect(json.model.type).toBe("BPE");
    expect(json.pre_tokenizer).toMatchObject({ type: "ByteLevel", add_prefix_space: false });
    expect(Object.keys(json.model.vocab)).toHaveLength(config.vocab_size);
    expect(json.added_tokens).toEqual([
      expect.objectContaining({ id: config.vocab_size - 1, content: "<|endoftext|>" }),
    ]);
    expect(config.eos_token_id).toBe(config.vocab_size - 1);
    expect(ids("<|endoftext|>")).toEqual([config.eos_token_id]);
    expect(json.model.vocab["Ġ"]).toBeDefined();
  });
});
