/**
 * How an evaluation run cuts its cases into batches (lib/edit/eval-run.ts batchesOf): plain
 * chunks, except that a case whose subject is already in the batch waits for the next batch, so
 * a run over CounterFact (whose cases 112 and 113 of the bundled dataset share a subject) never
 * hands a batch editor two rewrites of one subject, and no case is dropped.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEditDataset } from "../lib/edit/dataset";
import { suiteCases } from "../lib/edit/eval-cases";
import { batchesOf } from "../lib/edit/eval-run";
import { checkRequests } from "../lib/edit/memit-params";
import { BUNDLED_DIR } from "./interp-helpers";

const c = (id: number, subject: string) => ({ id, request: { subject } });
const ids = (bs: { id: number }[][]) => bs.map((b) => b.map((x) => x.id));

describe("batchesOf", () => {
  it("is plain chunking when no subject repeats", () => {
    const cases = [0, 1, 2, 3, 4].map((i) => c(i, `s${i}`));
    expect(ids(batchesOf(cases, 2))).toEqual([[0, 1], [2, 3], [4]]);
    expect(ids(batchesOf(cases, 1))).toEqual([[0], [1], [2], [3], [4]]);
    expect(ids(batchesOf(cases, 10))).toEqual([[0, 1, 2, 3, 4]]);
  });

  it("moves a repeated subject to the next batch, keeping every case once", () => {
    const cases = [c(0, "a"), c(1, "a"), c(2, "b"), c(3, "a"), c(4, "c")];
    expect(ids(batchesOf(cases, 3))).toEqual([[0, 2, 4], [1], [3]]);
    expect(ids(batchesOf(cases, 2))).toEqual([[0, 2], [1, 4], [3]]);
    // white space around a subject does not make it another subject (checkRequests trims too)
    expect(ids(batchesOf([c(0, "a"), c(1, " a ")], 2))).toEqual([[0], [1]]);
  });

  it("gives the bundled CounterFact cases 50–149 batches of 10 that a batch editor accepts", () => {
    const dataset = parseEditDataset(
      JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
    );
    const cases = suiteCases(dataset, "counterfact").slice(50, 150);
    // the dataset has a repeated subject inside one chunk of 10 (cases 112 and 113)
    const chunk = cases.slice(60, 70).map((x) => x.request);
    expect(() => checkRequests(chunk)).toThrow(/the same subject as request/);
    const batches = batchesOf(cases, 10);
    expect(batches.flat().map((x) => x.request.case_id)).toHaveLength(100);
    expect(new Set(batches.flat().map((x) => x.request.case_id)).size).toBe(100);
    expect(batches.every((b) => b.length <= 10)).toBe(true);
    for (const b of batches) expect(() => checkRequests(b.map((x) => x.request))).not.toThrow();
  });
});
