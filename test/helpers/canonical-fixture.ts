/**
 * The canonical evaluation's test model: the small random GPT-2 of test/fixtures with a tiny
 * dataset.json written next to it (two relations, three usable facts, 101 general texts), in a
 * fresh temporary folder.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const FIXTURE = path.join(import.meta.dirname, "../fixtures/random-gpt2-f16");
const fact = (subject: string, attribute: string, template: string, relation_id: string) => ({
  subject,
  attribute,
  template,
  prompt: template.replace("{}", subject),
  relation_id,
});
export const DATASET = {
  relations: [
    {
      relation_id: "R",
      objects: [" x", " y", " z"],
      templates_train: ["{} is in", "{} went to"],
      templates_heldout: ["{} is at"],
    },
    { relation_id: "S", objects: [" p", " q"], templates_train: ["{} eats"] },
  ],
  known_facts: [
    fact("ab", " x", "{} is in", "R"),
    fact("cd", " y", "{} is in", "R"),
    fact("ab", " q", "{} eats", "S"),
    fact("ef", " x", "{} went to", "R"),
    fact("cd", " p", "{} eats", "S"),
  ],
  general_text: [
    ...Array.from({ length: 100 }, (_, i) => `text ${i} is here.`),
    "A cat sat. It slept.",
  ],
};

/** A temporary model folder (config, weights, tokenizer, dataset.json) and its remover. */
export function canonicalModelDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "canonical-"));
  for (const f of ["config.json", "model.safetensors", "tokenizer.json"])
    copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  writeFileSync(path.join(dir, "dataset.json"), JSON.stringify(DATASET));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
