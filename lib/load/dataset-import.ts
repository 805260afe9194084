/**
 * Any model's editing data, in the literature's formats, read as untrusted input (`causeway edit
 * --dataset/--corpus`; the same functions serve the app): a file in the wrong format gets an
 * EditError naming the file and the case or line, before any work starts.
 *
 *   counterfact   ROME's counterfact.json: a list of {case_id, requested_rewrite, …}
 *   zsre          MEND's zsre_mend_eval.json: a list of {subject, src, rephrase, answers, loc, …}
 *   known         ROME's known_1000.json: a list of {known_id, subject, attribute, prompt, …}
 *   dataset       a model's dataset.json (an object with any of the keys above, general_text, …)
 *   prompts       a prompt set: a JSON list of strings or of {prompt}, JSONL of the same, or CSV
 *                 with a "prompt" (or "text") column
 *   corpus        plain text: one text per paragraph (blank-line separated), for C
 *
 * Sizes: at most MAX_DATASET_BYTES per file (lib/load/limits.ts), MAX_IMPORT_ITEMS cases or
 * texts, MAX_TEXT_CHARS characters per text (lib/edit/bounds.ts).
 */
import { MAX_TEXT_CHARS } from "../edit/bounds";
import { checkZsre, type EditDataset, parseEditDataset } from "../edit/dataset";
import { isObj } from "../edit/parse-checker";
import { EditError } from "../edit/types";
import { MAX_DATASET_BYTES } from "./limits";

export const MAX_IMPORT_ITEMS = 100_000;

export type ImportFormat = "counterfact" | "zsre" | "known" | "dataset" | "prompts" | "corpus";

const fail = (file: string, msg: string): never => {
  throw new EditError("bad_dataset", `${file}: ${msg}`);
};

function checkSize(file: string, text: string) {
  // UTF-16 length ≤ bytes of UTF-8 × 1 for ASCII; a cheap upper bound check first
  if (
    text.length > MAX_DATASET_BYTES ||
    new TextEncoder().encode(text).length > MAX_DATASET_BYTES
  ) {
    fail(file, `larger than ${MAX_DATASET_BYTES / 1024 ** 2} MiB`);
  }
}

function checkCount(file: string, n: number) {
  if (n > MAX_IMPORT_ITEMS) fail(file, `${n} items, more than ${MAX_IMPORT_ITEMS}`);
  if (n === 0) fail(file, "has no items");
}

function checkText(file: string, where: string, s: unknown): string {
  if (typeof s !== "string") return fail(file, `${where} is not a string`);
  if (s.length > MAX_TEXT_CHARS) fail(file, `${where} is longer than ${MAX_TEXT_CHARS} characters`);
  return s;
}

/** JSON.parse with the error's line and column. */
function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const at = m ? Number(m[1]) : -1;
    const line = at >= 0 ? text.slice(0, at).split("\n").length : null;
    return fail(file, `not valid JSON${line ? ` (line ${line})` : ""}: ${(e as Error).message}`);
  }
}

/** Which format a JSON value is in, from its shape (a list's first item, or an object's keys). */
export function detectJsonFormat(json: unknown): ImportFormat | null {
  if (isObj(json)) return "dataset";
  if (!Array.isArray(json) || json.length === 0) return null;
  const x = json[0];
  if (typeof x === "string") return "prompts";
  if (!isObj(x)) return null;
  if ("requested_rewrite" in x) return "counterfact";
  if ("src" in x && "loc" in x) return "zsre";
  if ("known_id" in x || ("attribute" in x && "subject" in x)) return "known";
  if ("prompt" in x || "text" in x) return "prompts";
  return null;
}

function knownFacts(file: string, rows: unknown[]): NonNullable<EditDataset["known_facts"]> {
  return rows.map((r, i) => {
    const where = `known fact ${i}`;
    if (!isObj(r)) return fail(file, `${where} is not an object`);
    const prompt = checkText(file, `${where}: prompt`, r.prompt);
    const subject = checkText(file, `${where}: subject`, r.subject);
    const attribute = checkText(file, `${where}: attribute`, r.attribute);
    if (!prompt.includes(subject)) {
      fail(file, `${where}: the subject ${JSON.stringify(subject)} is not in its prompt`);
    }
    return {
      prompt,
      subject,
      attribute,
      ...(typeof r.relation_id === "string" ? { relation_id: r.relation_id } : {}),
    };
  });
}

const isStrings = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((s) => typeof s === "string");

/**
 * Each CounterFact case's fields, one specific error naming the case (its index and case_id)
 * and the field: ROME's evaluation would otherwise fail (or score a wrong prompt) mid-run.
 */
export function checkCounterfact(file: string, rows: readonly unknown[]): void {
  for (const [i, c] of rows.entries()) checkCounterfactCase(file, c, i);
}

function checkCounterfactCase(file: string, c: unknown, i: number): undefined {
  const id = isObj(c) && typeof c.case_id === "number" ? ` (case_id ${c.case_id})` : "";
  const bad = (msg: string): never => fail(file, `counterfact[${i}]${id}: ${msg}`);
  if (!isObj(c)) return bad("is not an object");
  const r = c.requested_rewrite;
  if (!isObj(r)) return bad("lacks requested_rewrite");
  if (typeof r.prompt !== "string") return bad("requested_rewrite.prompt is not a string");
  if (typeof r.subject !== "string" || r.subject.trim() === "") {
    return bad("requested_rewrite.subject is missing or empty");
  }
  const slots = r.prompt.split("{}").length - 1;
  if (slots !== 1) {
    bad(
      slots === 0
        ? `the subject ${JSON.stringify(r.subject)} is not in its prompt ${JSON.stringify(r.prompt)} (no "{}" where it goes)`
        : `the prompt ${JSON.stringify(r.prompt)} has "{}" ${slots} times (one subject slot)`,
    );
  }
  for (const t of ["target_new", "target_true"] as const) {
    const o = r[t];
    if (!isObj(o) || typeof o.str !== "string" || o.str.trim() === "") {
      bad(`requested_rewrite.${t}.str is missing or empty`);
    }
  }
  for (const k of ["paraphrase_prompts", "neighborhood_prompts"] as const) {
    if (!isStrings(c[k])) bad(`${k} is not a list of strings`);
  }
}

/** Every string of the case's text fields within the length bound (counterfact / zsre). */
function checkLengths(file: string, what: string, rows: unknown[]) {
  rows.forEach((r, i) => {
    const long = JSON.stringify(r).length > 16 * MAX_TEXT_CHARS;
    if (long) fail(file, `${what} ${i} is too long (over ${16 * MAX_TEXT_CHARS} characters)`);
  });
}

/** A prompt set's prompts from JSON, JSONL or CSV text. */
export function parsePromptSet(file: string, text: string): string[] {
  checkSize(file, text);
  const trimmed = text.trimStart();
  let prompts: string[];
  if (/\.csv$/i.test(file)) prompts = csvPrompts(file, text);
  else if (trimmed.startsWith("[")) {
    const json = parseJson(file, text);
    if (!Array.isArray(json)) return fail(file, "a prompt set must be a JSON list");
    prompts = json.map((x, i) => promptOf(file, `item ${i}`, x));
  } else {
    prompts = text
      .split("\n")
      .map((l, i) => [l.trim(), i + 1] as const)
      .filter(([l]) => l !== "")
      .map(([l, line]) => {
        let x: unknown;
        try {
          x = JSON.parse(l);
        } catch {
          return fail(file, `line ${line} is not JSON (JSONL: one string or {"prompt": …} a line)`);
        }
        return promptOf(file, `line ${line}`, x);
      });
  }
  checkCount(file, prompts.length);
  return prompts;
}

function promptOf(file: string, where: string, x: unknown): string {
  const p = typeof x === "string" ? x : isObj(x) ? (x.prompt ?? x.text) : undefined;
  if (typeof p !== "string" || p.trim() === "") {
    return fail(file, `${where} is not a prompt (a string, or an object with "prompt" or "text")`);
  }
  return checkText(file, where, p);
}

/** CSV with a header naming a "prompt" or "text" column; RFC 4180 quotes. */
function csvPrompts(file: string, text: string): string[] {
  const rows = csvRows(file, text);
  if (rows.length === 0) return fail(file, "is empty");
  const head = rows[0].map((h) => h.trim().toLowerCase());
  const col = head.indexOf("prompt") >= 0 ? head.indexOf("prompt") : head.indexOf("text");
  if (col < 0) fail(file, `line 1: no "prompt" or "text" column (columns: ${head.join(", ")})`);
  return rows.slice(1).flatMap((r, i) => {
    if (r.length === 1 && r[0] === "") return [];
    if (r.length !== head.length) {
      fail(file, `line ${i + 2}: ${r.length} fields, the header has ${head.length}`);
    }
    return [checkText(file, `line ${i + 2}`, r[col])];
  });
}

function csvRows(file: string, text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      line++;
    } else field += c;
  }
  if (quoted) fail(file, `line ${line}: a quoted field is not closed`);
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A plain-text corpus: one text per paragraph (blank lines between), each within the bounds. */
export function parseCorpus(file: string, text: string): string[] {
  checkSize(file, text);
  const texts = text
    .split(/\r?\n\s*\r?\n/)
    .map((t) => t.trim())
    .filter((t) => t !== "");
  checkCount(file, texts.length);
  texts.forEach((t, i) => {
    checkText(file, `paragraph ${i + 1}`, t);
  });
  return texts;
}

/**
 * The editing data in a JSON file of any of the formats above, as the dataset fields it fills
 * (counterfact, zsre or known_facts; a dataset.json as it is, checked).
 */
export function importDatasetJson(
  file: string,
  text: string,
): { format: ImportFormat; data: EditDataset } {
  checkSize(file, text);
  if (/\.(txt|csv|jsonl)$/i.test(file) && !/^\s*[[{]/.test(text)) {
    fail(
      file,
      "is not JSON editing data (CounterFact, zsRE, known_1000 or dataset.json): a text corpus or prompt set goes to --corpus",
    );
  }
  const json = parseJson(file, text);
  const format = detectJsonFormat(json);
  return { format: format ?? "dataset", data: datasetFields(file, json, format) };
}

function datasetFields(file: string, json: unknown, format: ImportFormat | null): EditDataset {
  const rows = Array.isArray(json) ? json : [];
  switch (format) {
    case "dataset":
      if (isObj(json) && Array.isArray(json.counterfact)) checkCounterfact(file, json.counterfact);
      return parseEditDataset(json, file);
    case "counterfact":
      checkCount(file, rows.length);
      checkLengths(file, "case", rows);
      checkCounterfact(file, rows);
      return parseEditDataset({ counterfact: rows }, file);
    case "zsre":
      checkCount(file, rows.length);
      checkLengths(file, "case", rows);
      checkZsre(rows, file);
      return { zsre: rows as EditDataset["zsre"] };
    case "known":
      checkCount(file, rows.length);
      return { known_facts: knownFacts(file, rows) };
    case "prompts":
      return fail(file, "is a prompt set, not editing data: give it as a corpus (--corpus)");
    default:
      return fail(
        file,
        "is not CounterFact, zsRE, known_1000 or dataset.json data (a list of cases with requested_rewrite, src/loc, or subject/attribute; or an object)",
      );
  }
}

/** A corpus file: plain text, or a prompt set (JSON, JSONL, CSV) whose prompts are the texts. */
export function importCorpus(file: string, text: string): string[] {
  if (/\.(json|jsonl|csv)$/i.test(file)) return parsePromptSet(file, text);
  return parseCorpus(file, text);
}
