/**
 * A ROME edit learned in the app reads its C through the browser's store (lib/edit/cov-cache.ts,
 * a Map here): the first edit on a layer computes C (with "statistics" progress) and stores it
 * under the model's fingerprint, layer and corpus; the same edit on a freshly loaded copy of the
 * model (no C in memory) reads it from the store, computes nothing, and learns the same update.
 */
import "../lib/model/backends-node";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../lib/cli/edit-inputs";
import type { MomentStore, StoredMoment } from "../lib/edit/cov-cache";
import type { EditDataset } from "../lib/edit/dataset";
import type { RomeEdit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { EditLane } from "../workers/edit-lane";
import { SideJobs } from "../workers/jobs";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const engines: Engine[] = [];
let dataset: EditDataset | undefined;

const stored = new Map<string, unknown>();
const store: MomentStore = {
  get: async (k) => stored.get(k),
  set: async (k, v: StoredMoment) => {
    stored.set(k, structuredClone(v));
  },
};

const RECIPE: RomeEdit = {
  kind: "rome",
  site: { layer: 1 },
  params: {
    prompt: "{} lives in the city of",
    subject: "Ralkrok Stennos",
    target_new: " Paris",
    steps: 2,
    cov: "general_text",
    cov_texts: 40,
    context: { lengths: [4], per_length: 2 },
  },
};

/** Learns RECIPE on `engine` through a new edit lane; returns what the lane posted. */
async function learn(engine: Engine): Promise<FromWorker[]> {
  const posts: FromWorker[] = [];
  const lane = new EditLane({
    post: (m) => posts.push(m),
    engine: async () => engine,
    dataset: async () => dataset,
    runsIdle: async () => {},
    side: new SideJobs(),
    statsStore: () => store,
  });
  lane.lanes.setEdits.submit({ type: "setEdits", reqId: 1, edits: [RECIPE] });
  for (let i = 0; i < 120_000; i++) {
    const end = posts.find((m) => m.type === "done" || m.type === "error");
    if (end?.type === "error") throw new Error(JSON.stringify(end));
    if (end) return posts;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("setEdits never answered");
}

const phases = (posts: FromWorker[]) =>
  new Set(posts.flatMap((m) => (m.type === "progress" && "phase" in m ? [m.phase] : [])));
const learned = (posts: FromWorker[]) => {
  const m = posts.find((p) => p.type === "setEdits");
  if (m?.type !== "setEdits") throw new Error("no setEdits answer");
  return (m.edits[0] as RomeEdit).learned;
};

describe.skipIf(!present)("ROME's C through the browser's store", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engines.push(await loadEngine(BUNDLED_DIR), await loadEngine(BUNDLED_DIR));
    dataset = loadDataset(BUNDLED_DIR);
  });
  afterAll(() => {
    for (const e of engines) e.dispose();
  });

  it("computes and stores C once; a fresh copy of the model reads it and learns the same", async () => {
    const first = await learn(engines[0]);
    expect(phases(first).has("statistics")).toBe(true);
    const keys = [...stored.keys()];
    expect(keys).toHaveLength(1);
    // the model (its name here is its folder) with a fingerprint, the layer, the corpus hash
    expect(keys[0]).toMatch(/^C\|.*tiny-facts#[0-9a-f]{16}\|1\|[0-9a-f]{64}$/);

    const second = await learn(engines[1]);
    expect(phases(second).has("statistics")).toBe(false);
    expect(stored.size).toBe(1);
    const [a, b] = [learned(first), learned(second)];
    expect(b?.info?.cov_tokens).toBe(a?.info?.cov_tokens);
    expect(b?.u).toEqual(a?.u);
    expect(b?.v).toEqual(a?.v);
  });
});
