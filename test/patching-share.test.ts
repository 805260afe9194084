/**
 * The "By position" and "Path patching" views through the real run lane (workers/jobs.ts on the
 * bundled model, in Node on wasm): path scores equal numpy's (scripts/reference/path_patch_ref.py
 * goldens), a receiver set's joint effect beside the grid (runPathJoint: 4 evaluations, the grid
 * kept) equal to numpy's; a share link carries the position site and the path sender, inputs and
 * receiver set, and a fresh store opening it recomputes both views and the joint effect to
 * identical numbers; the JSON and CSV exports read back to the grids on screen, the path JSON
 * with `causeway path --json`'s fields.
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { pathCsv, pathJson, positionsCsv, positionsJson } from "../lib/export/patching";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker, ModelVariant, RunJob } from "../lib/protocol";
import { decodeSession, encodeSession } from "../lib/share/link";
import { openSession } from "../lib/share/open";
import { sessionOf } from "../lib/share/store";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { RunLane } from "../workers/jobs";
import { pathGolden } from "./helpers/path-goldens";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";
import { FakePort } from "./store-fake-port";

const CLEAN = "Ralkrok Stennos lives in the city of";
const CORRUPT = "Nerzessar Pelpan lives in the city of";
const golden = pathGolden("tiny-facts-3.0-qkv");

let engine: Engine;
beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine?.dispose());

/** A fake port whose run requests go to the real run lane; answers pass the latest-request table. */
class RunPort extends FakePort {
  private readonly ended = new Map<number, () => void>();
  private readonly over = new Set<number>();
  private readonly lane = new RunLane({
    post: (m, transfer) => {
      const copy = structuredClone(m, { transfer: (transfer ?? []) as ArrayBuffer[] });
      this.deliver(copy);
      if (copy.type === "done" || copy.type === "error") {
        this.over.add(copy.reqId);
        this.ended.get(copy.reqId)?.();
      }
    },
    engine: async () => engine,
    quiet: async () => {},
  });
  override run(job: RunJob, variant?: ModelVariant): number {
    const reqId = super.run(job, variant);
    this.lane.submit({ type: "run", reqId, job, ...(variant ? { variant } : {}) });
    return reqId;
  }
  finished(reqId: number): Promise<void> {
    if (this.over.has(reqId)) return Promise.resolve();
    return new Promise((resolve) => this.ended.set(reqId, resolve));
  }
  /** Resolves once run `n` (0-based) has been asked for and has ended. */
  async runEnded(n: number): Promise<void> {
    for (let i = 0; this.runs.length <= n; i++) {
      if (i > 200) throw new Error(`run ${n} was never asked for`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await this.finished(this.runs[n].reqId);
  }
}

function newStore(prompt?: string): { store: CausewayStore; port: RunPort } {
  const store = createCausewayStore({
    debounceMs: 0,
    ...(prompt ? { initialPrompt: prompt } : {}),
  });
  const port = new RunPort();
  port.listen((msg, lane) => store.getState().receive(msg, lane));
  store.getState().connect(port);
  store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
  return { store, port };
}

function answerLoad(port: RunPort) {
  const info = { name: "tiny-facts", nParams: 1, config: engine.model.config };
  port.deliver({ type: "load", reqId: port.loads.at(-1)!.reqId, backend: "wasm", model: info });
}

async function answerPredict(port: RunPort) {
  await new Promise((r) => setTimeout(r, 5)); // the debounced prediction request
  const p = port.predicts.at(-1)!;
  const prediction = await engine.predict(p.prompt, 5);
  port.deliver({ type: "predict", reqId: p.reqId, prediction, ms: 1 } as FromWorker);
}

describe("patching views in a share link", () => {
  it("reopen in a fresh store with the same numbers, and export them", async () => {
    const a = newStore(CLEAN);
    answerLoad(a.port);
    await answerPredict(a.port);
    const settings = {
      clean: CLEAN,
      corrupt: CORRUPT,
      target: engine.tokenText(golden.spec.target),
      foil: engine.tokenText(golden.spec.foil),
    };
    a.store.getState().setPatchSettings(settings);
    a.store.getState().setPositionSite("head_out_pos");
    a.store.getState().runPositions();
    expect(a.store.getState().positions.formError).toBe(null);
    await a.port.runEnded(0);
    a.store.getState().setPathSender({ layer: 3, head: 0 });
    a.store.getState().runPath();
    await a.port.runEnded(1);
    const pa = a.store.getState().path;
    expect(pa.run.status).toBe("done");
    const H = engine.model.config.nHead;
    golden.scores.forEach((row, l) => {
      row.forEach((want, h) => {
        const got = pa.result!.values![l * H + h];
        if (want === null) expect(Number.isNaN(got)).toBe(true);
        else expect(Math.abs(got - want), `L${l}H${h}`).toBeLessThan(1e-4);
      });
    });

    // the golden's receiver set, picked on the grid: only the set runs, the grid stays
    const grid = pa.result!.values;
    for (const [l, h] of [
      [5, 3],
      [4, 2],
      [5, 1],
      [4, 0],
    ]) {
      a.store.getState().toggleReceiver({ layer: l, head: h });
    }
    a.store.getState().toggleReceiver({ layer: 4, head: 0 }); // toggled out again
    a.store.getState().runPathJoint();
    await a.port.runEnded(2);
    const pj2 = a.store.getState().path;
    expect(pj2.run.evaluations).toBe(4);
    expect(pj2.result!.values).toBe(grid);
    expect(pj2.result!.joint!.receivers).toEqual(
      golden.spec.receivers!.map(([layer, head]) => ({ layer, head })),
    );
    expect(Math.abs(pj2.result!.joint!.value - (golden.joint as number))).toBeLessThan(1e-4);

    const { hash } = await encodeSession(sessionOf(a.store.getState()));
    const session = await decodeSession(hash);
    expect(session.patching).toEqual({
      positions: { site: "head_out_pos" },
      path: {
        sender: { layer: 3, head: 0 },
        inputs: ["q", "k", "v"],
        receivers: [
          { layer: 4, head: 2 },
          { layer: 5, head: 1 },
          { layer: 5, head: 3 },
        ],
      },
    });

    const b = newStore();
    const stop = openSession(b.store, session, () => {});
    answerLoad(b.port);
    expect(b.port.runs).toHaveLength(0); // not before the prompt's tokens are known
    await answerPredict(b.port);
    await b.port.runEnded(0);
    await b.port.runEnded(1); // one after the other: the path run does not replace the sweep
    stop();
    const sb = b.store.getState();
    expect(sb.positions.run.status).toBe("done");
    expect(sb.path.run.status).toBe("done");
    expect(sb.positions.result?.site).toBe("head_out_pos");
    expect(sb.positions.result?.values).toEqual(a.store.getState().positions.result?.values);
    expect(sb.path.result?.values).toEqual(pa.result?.values);
    expect(sb.path.result?.joint).toEqual(pj2.result?.joint); // same set, same number

    // exports read back to the grids on screen
    const pj = JSON.parse(pathJson(sb.path.result!, sb.path.run, { backend: "wasm" }));
    expect(Object.keys(pj).sort()).toEqual(
      [
        "clean_ids",
        "corrupt_ids",
        "clean_tokens",
        "corrupt_tokens",
        "target",
        "foil",
        "sender",
        "inputs",
        "receivers",
        "clean_logit_diff",
        "corrupt_logit_diff",
        "scores",
        "joint",
        "n_layer",
        "n_head",
        "evaluations",
        "ms",
        "backend",
      ].sort(),
    );
    expect(pj.clean_ids).toEqual(golden.spec.clean);
    expect(pj.target.id).toBe(golden.spec.target);
    expect(pj.foil.id).toBe(golden.spec.foil);
    expect(pj.evaluations).toBeGreaterThan(0);
    expect(pj.receivers).toEqual(session.patching?.path?.receivers);
    expect(pj.joint).toBe(sb.path.result!.joint!.value);
    pj.scores.forEach((row: (number | null)[], l: number) => {
      row.forEach((v, h) => {
        const want = golden.scores[l][h];
        if (want === null) expect(v).toBe(null);
        else expect(Math.abs((v as number) - want)).toBeLessThan(1e-4);
      });
    });
    const pathRows = pathCsv(sb.path.result!).trim().split("\r\n");
    expect(pathRows[0]).toBe(
      "sender_layer,sender_head,receiver_layer,receiver_head,receiver_set,inputs,effect",
    );
    expect(pathRows).toHaveLength(1 + (engine.model.config.nLayer - 4) * H + 1);
    for (const line of pathRows.slice(1, -1)) {
      const [sl, sh, l, h, set, inputs, v] = line.split(",");
      expect([sl, sh, set, inputs]).toEqual(["3", "0", `L${l}H${h}`, "qkv"]);
      expect(Number(v)).toBe(sb.path.result!.values![Number(l) * H + Number(h)]);
    }
    expect(pathRows.at(-1)).toBe(`3,0,,,L4H2+L5H1+L5H3,qkv,${pj.joint}`);

    const r = sb.positions.result!;
    const T = golden.spec.clean.length;
    const qj = JSON.parse(positionsJson(r, sb.positions.run));
    expect(qj.site).toBe("head_out_pos");
    expect(qj.corrupt_ids).toEqual(engine.tokenize(CORRUPT).ids);
    expect(qj.strategy).toBe("fast");
    expect(qj.scores).toHaveLength(engine.model.config.nLayer);
    expect(qj.scores[0]).toHaveLength(T);
    const posRows = positionsCsv(r).trim().split("\r\n");
    expect(posRows[0]).toBe("layer,position,token,head,effect");
    expect(posRows).toHaveLength(1 + engine.model.config.nLayer * T * H);
    for (const line of posRows.slice(1)) {
      // the token may hold a comma (quoted): read layer, position from the front, head, effect from the back
      const cells = line.split(",");
      const [l, t] = cells.map(Number);
      const [h, v] = cells.slice(-2).map(Number);
      const want = r.values![t * r.width + l * H + h];
      expect(v).toBe(want);
      expect(qj.scores[l][t][h]).toBe(want);
    }
  });
});
