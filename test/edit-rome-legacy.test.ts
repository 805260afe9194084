/**
 * Edit files keep their meaning across ROME's default change (lib/edit/rome-legacy.ts): a
 * version-1 file (or one without a version) was written while `preserve` / `preserve_cost`
 * defaulted to 0, so its ROME edits read 0 where absent, and learn as they did then; a
 * version-2 file's edits take today's defaults (10, 2). Learned edits are never relearned.
 * Fixtures: test/fixtures/share/v1-edits.json (written by the v1 code), v2-edits.json
 * (test/fixtures/share/make-versioned.mts). Links and session files: test/share-link.test.ts.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { learnStack } from "../lib/edit/learn";
import { parseEditFile, serializeEdits } from "../lib/edit/parse";
import { ROME_DEFAULTS, romeParams } from "../lib/edit/rome";
import { EDIT_FORMAT_VERSION, type RomeEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

const file = (name: string) =>
  JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/share", name), "utf8"));
const preserveOf = (e: RomeEdit) => {
  const p = romeParams(e.params);
  return [p.preserve, p.preserve_cost];
};

let model: Gpt2Model;
beforeAll(async () => {
  await selectBackend(["wasm"]);
  model = Gpt2Model.fromWeights(SMALL, randomWeights());
});
afterAll(() => model?.dispose());

describe("edit files across ROME's preserve default", () => {
  it("the default is the tuned setting: preserve 10 bounded by preserve_cost 2", () => {
    expect([ROME_DEFAULTS.preserve, ROME_DEFAULTS.preserve_cost]).toEqual([10, 2]);
    expect(EDIT_FORMAT_VERSION).toBe(2);
  });

  it("v1 files, versionless files and bare lists read preserve 0 where absent; v2 files the default", () => {
    const v1 = file("v1-edits.json");
    expect(v1.version).toBe(1);
    const read = (json: unknown) => (parseEditFile(json).edits as RomeEdit[]).map(preserveOf);
    expect(read(v1)).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(read({ edits: v1.edits })).toEqual(read(v1));
    expect(read(v1.edits)).toEqual(read(v1));
    const v2 = file("v2-edits.json");
    expect(v2.version).toBe(2);
    expect(read(v2)).toEqual([
      [10, 2],
      [10, 2],
    ]);
    // a value the file chose is its own, whatever the version
    const chosen = { ...v1.edits[0], params: { ...v1.edits[0].params, preserve: 4 } };
    expect(read({ version: 1, edits: [chosen] })).toEqual([[4, 0]]);
    expect(read({ version: 2, edits: [chosen] })).toEqual([[4, 2]]);
    // the file as read is a v2 file: written out and read again, it means the same
    const again = parseEditFile(JSON.parse(serializeEdits(parseEditFile(v1).edits)));
    expect(again.version).toBe(2);
    expect((again.edits as RomeEdit[]).map(preserveOf)).toEqual(read(v1));
  });

  it("refuses a version it does not know, naming the ones it reads", () => {
    for (const version of [0, 3, "2"]) {
      expect(() => parseEditFile({ version, edits: [] })).toThrow(
        `edit file version ${version} is not supported (this reads 1 and 2)`,
      );
    }
  });

  it("a v1 recipe learns as ROME did then, a v2 one with preserve; the learned edit is kept", async () => {
    const v1 = parseEditFile(file("v1-edits.json")).edits as RomeEdit[];
    const v2 = parseEditFile(file("v2-edits.json")).edits as RomeEdit[];
    const started: number[] = [];
    const learn = async (edits: RomeEdit[]) =>
      (
        await learnStack(model, charTokenizer, edits, {
          onEdit: (i, phase) => phase === "start" && started.push(i),
        })
      ).edits as RomeEdit[];
    const [old, kept] = await learn(v1);
    expect(started).toEqual([0]); // the learned edit is not relearned
    expect(kept).toBe(v1[1]);
    expect(kept.learned).toEqual(file("v1-edits.json").edits[1].learned);
    const [now] = await learn(v2);
    expect(old.learned?.info?.preserve).toBe(0);
    expect(now.learned?.info?.preserve).toBeGreaterThan(0);
    // the two directions differ: the migration changes what a v1 recipe learns
    const u1 = old.learned!.u;
    const u2 = now.learned!.u;
    expect(Math.max(...u1.map((x, i) => Math.abs(x - u2[i])))).toBeGreaterThan(1e-2);
  });
});
