/**
 * Editing data in the literature's formats as untrusted input (lib/load/dataset-import.ts):
 * each format read, and each kind of wrong file refused with an error naming the file and the
 * case or line.
 */
import { describe, expect, it } from "vitest";
import {
  detectJsonFormat,
  importCorpus,
  importDatasetJson,
  MAX_IMPORT_ITEMS,
  parsePromptSet,
} from "../lib/load/dataset-import";

const CF = {
  case_id: 7,
  requested_rewrite: {
    prompt: "{} lives in the city of",
    subject: "Rekin Staral",
    target_new: { str: "Halvek" },
    target_true: { str: "Parrow" },
  },
  paraphrase_prompts: ["Rekin Staral resides in"],
  neighborhood_prompts: ["Vonbak Nerbak lives in the city of"],
};
const ZS = {
  subject: "Rekin Staral",
  src: "Q: Where does Rekin Staral live? A:",
  rephrase: "Q: In which city does Rekin Staral reside? A:",
  answers: ["Parrow"],
  alt: "Halvek",
  loc: "nq question: who wrote hamlet",
  loc_ans: "Shakespeare",
};
const KNOWN = {
  known_id: 0,
  subject: "Vinson Massif",
  attribute: "Antarctica",
  template: "{} is located in the continent",
  prediction: " Antarctica",
  prompt: "Vinson Massif is located in the continent of",
  relation_id: "P30",
};
const j = (x: unknown) => JSON.stringify(x);

describe("editing data import", () => {
  it("reads CounterFact, zsRE, known_1000 and dataset.json by their shape", () => {
    expect(importDatasetJson("cf.json", j([CF])).data.counterfact?.[0].case_id).toBe(7);
    expect(importDatasetJson("z.json", j([ZS])).data.zsre?.[0].alt).toBe("Halvek");
    const k = importDatasetJson("known_1000.json", j([KNOWN]));
    expect(k.format).toBe("known");
    expect(k.data.known_facts).toEqual([
      {
        prompt: KNOWN.prompt,
        subject: KNOWN.subject,
        attribute: KNOWN.attribute,
        relation_id: "P30",
      },
    ]);
    const d = importDatasetJson("dataset.json", j({ counterfact: [CF], general_text: ["a b"] }));
    expect(d.format).toBe("dataset");
    expect(d.data.general_text).toEqual(["a b"]);
    expect(detectJsonFormat([1, 2])).toBeNull();
  });

  it("names the case or line of a wrong file", () => {
    const bad = { ...CF, requested_rewrite: { ...CF.requested_rewrite, prompt: "no slot" } };
    expect(() => importDatasetJson("cf.json", j([CF, bad]))).toThrow(/cf\.json: counterfact\[1\]/);
    expect(() => importDatasetJson("z.json", j([ZS, { ...ZS, subject: "Nobody" }]))).toThrow(
      /z\.json: zsre\[1\]: the subject "Nobody" is not in its question/,
    );
    expect(() => importDatasetJson("z.json", j([{ ...ZS, answers: "Parrow" }]))).toThrow(
      /zsre\[0\] lacks/,
    );
    expect(() =>
      importDatasetJson("k.json", j([KNOWN, { ...KNOWN, prompt: "Somewhere else" }])),
    ).toThrow(/k\.json: known fact 1: the subject "Vinson Massif" is not in its prompt/);
    expect(() => importDatasetJson("x.json", '[{"a": 1}]')).toThrow(
      /x\.json: is not CounterFact, zsRE, known_1000/,
    );
    expect(() => importDatasetJson("x.json", '{\n"a": 1,\n}')).toThrow(
      /x\.json: not valid JSON \(line 3\)/,
    );
    expect(() => importDatasetJson("p.json", j(["a prompt"]))).toThrow(/a prompt set/);
    expect(() => importDatasetJson("e.json", "[]")).toThrow(/is not CounterFact/);
  });

  it("names the case and the field of a wrong CounterFact case", () => {
    const rw = (o: Record<string, unknown>) => ({
      ...CF,
      requested_rewrite: { ...CF.requested_rewrite, ...o },
    });
    const cases: [unknown, RegExp][] = [
      [
        rw({ prompt: "Rekin Staral lives in the city of" }),
        /cf\.json: counterfact\[1\] \(case_id 7\): the subject "Rekin Staral" is not in its prompt "Rekin Staral lives in the city of" \(no "\{\}"/,
      ],
      [
        rw({ prompt: "{} and {} live in" }),
        /counterfact\[1\] \(case_id 7\): the prompt .* has "\{\}" 2 times/,
      ],
      [
        rw({ subject: " " }),
        /counterfact\[1\] \(case_id 7\): requested_rewrite\.subject is missing or empty/,
      ],
      [rw({ target_new: "Halvek" }), /requested_rewrite\.target_new\.str is missing/],
      [rw({ target_true: { str: "" } }), /requested_rewrite\.target_true\.str is missing or empty/],
      [
        { ...CF, paraphrase_prompts: "Rekin" },
        /counterfact\[1\] \(case_id 7\): paraphrase_prompts is not a list/,
      ],
      [{ case_id: 3 }, /counterfact\[1\] \(case_id 3\): lacks requested_rewrite/],
      ["a string", /counterfact\[1\]: is not an object/],
    ];
    for (const [bad, re] of cases) {
      expect(() => importDatasetJson("cf.json", j([CF, bad]))).toThrow(re);
      // the same checks inside a whole dataset.json
      expect(() => importDatasetJson("cf.json", j({ counterfact: [CF, bad] }))).toThrow(re);
    }
  });

  it("refuses a corpus or CSV given as editing data, pointing at --corpus", () => {
    expect(() => importDatasetJson("texts.txt", "Plain text.\n\nMore.")).toThrow(
      /texts\.txt: is not JSON editing data .* goes to --corpus/,
    );
    expect(() => importDatasetJson("p.csv", "prompt\nabc\n")).toThrow(
      /p\.csv: is not JSON editing data/,
    );
    // a .jsonl holding a JSON list is still read as JSON
    expect(importDatasetJson("cf.jsonl", j([CF])).format).toBe("counterfact");
  });

  it("reads prompt sets from JSON, JSONL and CSV", () => {
    expect(parsePromptSet("p.json", j(["a", { prompt: "b" }, { text: "c" }]))).toEqual([
      "a",
      "b",
      "c",
    ]);
    expect(parsePromptSet("p.jsonl", '"a"\n\n{"prompt": "b"}\n')).toEqual(["a", "b"]);
    expect(parsePromptSet("p.csv", 'id,prompt\n1,"He said ""hi"", then left"\n2,plain\n')).toEqual([
      'He said "hi", then left',
      "plain",
    ]);
    expect(parsePromptSet("p.csv", 'text\r\nfirst\r\n"multi\nline"\r\n')).toEqual([
      "first",
      "multi\nline",
    ]);
  });

  it("refuses wrong prompt sets and corpora by line", () => {
    expect(() => parsePromptSet("p.jsonl", '"a"\n{oops\n')).toThrow(/p\.jsonl: line 2 is not JSON/);
    expect(() => parsePromptSet("p.json", j(["a", 3]))).toThrow(/p\.json: item 1 is not a prompt/);
    expect(() => parsePromptSet("p.csv", "id,label\n1,x\n")).toThrow(
      /p\.csv: line 1: no "prompt" or "text" column/,
    );
    expect(() => parsePromptSet("p.csv", "id,prompt\n1,x\n2,y,z\n")).toThrow(
      /p\.csv: line 3: 3 fields, the header has 2/,
    );
    expect(() => parsePromptSet("p.csv", 'prompt\n"open\n')).toThrow(/quoted field is not closed/);
    expect(() => importCorpus("c.txt", "  \n\n ")).toThrow(/c\.txt: has no items/);
    const many = j(Array.from({ length: MAX_IMPORT_ITEMS + 1 }, () => "p"));
    expect(() => parsePromptSet("big.json", many)).toThrow(/more than 100000/);
    expect(() => importCorpus("c.txt", "x".repeat(10_001))).toThrow(
      /paragraph 1 is longer than 10000 characters/,
    );
  });

  it("splits a plain-text corpus into paragraphs, and reads a prompt set as a corpus", () => {
    expect(importCorpus("c.txt", "One text.\nStill one.\n\n  Two.  \n\n\n")).toEqual([
      "One text.\nStill one.",
      "Two.",
    ]);
    expect(importCorpus("c.jsonl", '"a"\n"b"\n')).toEqual(["a", "b"]);
  });
});
