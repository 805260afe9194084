/**
 * The read-out path of the app (issue 13 items 2–3) on the bundled model, in Node on wasm: the
 * store's runReadout → a port that drives the worker's lanes (workers/lens-job.ts) in process,
 * answers structured-cloned as postMessage does → the store's readouts slice. The numbers that
 * land in the store equal `causeway lens | dla | attrib --json` for the same prompt (the CLI's
 * own numbers are checked against numpy in test/interp-attrib.test.ts); no tensor is left behind;
 * a cancel is acknowledged; bad input is a coded error that keeps the result on screen.
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import type { AttributionScores } from "../lib/interp/attribution";
import type { ReadoutBody, ReadoutType } from "../lib/lens-jobs";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { SideJobs } from "../workers/jobs";
import { type ReadoutLanes, readoutLanes } from "../workers/lens-job";
import { runCli } from "./helpers/run-cli";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";
import { FakePort } from "./store-fake-port";

const PROMPT = "Ralkrok Stennos lives in the city of";
const CORRUPT = "Nerzessar Pelpan lives in the city of";
const TOL = 1e-5;
let engine: Engine;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine?.dispose());

/** A port whose read-outs run on the worker's lanes in this process. */
class InProcessPort extends FakePort {
  readonly lanes: ReadoutLanes;
  readonly messages: FromWorker[] = [];
  constructor(onMessage?: (m: FromWorker) => void) {
    super();
    const side = new SideJobs();
    this.lanes = readoutLanes({
      post: (m) => {
        const copy = structuredClone(m);
        this.messages.push(copy);
        onMessage?.(copy);
        this.deliver(copy);
      },
      engine: async () => engine,
      edited: () => null,
      runsIdle: async () => {},
      quiet: () => side.quiet(),
      track: (p) => side.track(p),
      progressIntervalMs: 0,
    });
  }
  readout(body: ReadoutBody): number {
    const reqId = this.latest.issue(body.type);
    const lane = this.lanes[body.type] as { submit(m: unknown): void };
    lane.submit({ ...body, reqId });
    return reqId;
  }
  cancelReadout(type: ReadoutType): void {
    this.lanes[type].cancel(this.latest.current(type));
  }
}

function setup(onMessage?: (m: FromWorker, store: CausewayStore) => void) {
  const store = createCausewayStore({ debounceMs: 0, initialPrompt: PROMPT });
  const port = new InProcessPort((m) => onMessage?.(m, store));
  port.listen((m, lane) => store.getState().receive(m, lane));
  store.getState().connect(port);
  store.setState((s) => ({ model: { ...s.model, status: "ready" } }));
  store.getState().setPatchSettings({ clean: PROMPT, corrupt: CORRUPT });
  return { store, port };
}

/** Resolves when read-out `type`'s run is over (done, cancelled or error). */
function settled(store: CausewayStore, type: ReadoutType): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const st = store.getState().readouts[type].run.status;
      if (st === "done" || st === "cancelled" || st === "error") {
        stop();
        resolve();
      }
    };
    const stop = store.subscribe(check);
    check();
  });
}

async function cli(args: string[]) {
  const r = await runCli([...args, "--json"]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout);
}

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
function expectClose(a: unknown, b: unknown) {
  const fa = flat(a);
  const fb = flat(b);
  expect(fa.length).toBe(fb.length);
  const worst = Math.max(0, ...fa.map((v, i) => Math.abs(v - fb[i])));
  expect(worst).toBeLessThan(TOL);
}

describe("read-outs through the worker lanes and the store = the CLI's JSON", () => {
  it(
    "logit lens",
    async () => {
      const { store } = setup();
      store.getState().setReadoutSettings({ lensTarget: " Parrow", topK: 3 });
      const before = engine.tensorsInUse();
      store.getState().runReadout("lens");
      // the app's run first: an in-process CLI run would count in its tensorsLeft
      await settled(store, "lens");
      const out = await cli(["lens", "--prompt", PROMPT, "--target", " Parrow", "--top", "3"]);
      const r = store.getState().readouts.lens;
      expect(r.run.status).toBe("done");
      expect(r.run.tensorsLeft).toBe(0);
      expect(engine.tensorsInUse()).toBe(before);
      expect(r.result?.layers).toEqual(out.layers);
      expect(r.result?.target).toEqual(out.target);
      expect(r.result?.top.map((row) => row.map((c) => c.map((t) => t.id)))).toEqual(
        out.top.map((row: { id: number }[][]) => row.map((c) => c.map((t) => t.id))),
      );
      expectClose(r.result?.target_prob, out.target_prob);
    },
    workLimit({ units: 2, perUnitMs: 60_000 }),
  );

  it(
    "direct logit attribution: every term, and they sum to the logit difference",
    async () => {
      const { store } = setup();
      store.getState().setReadoutSettings({ dlaTarget: "Parrow", dlaFoil: "Belkor" });
      store.getState().runReadout("dla");
      // the app's run first: an in-process CLI run would count in its tensorsLeft
      await settled(store, "dla");
      const out = await cli(["dla", "--prompt", PROMPT, "--target", "Parrow", "--foil", "Belkor"]);
      const r = store.getState().readouts.dla;
      expect(r.run.status).toBe("done");
      expect(r.run.tensorsLeft).toBe(0);
      const d = r.result!;
      expect(d.target).toEqual(out.target);
      expect(d.foil).toEqual(out.foil);
      for (const k of ["heads", "mlp", "attn_bias", "embed", "pos_embed", "ln_final_bias"] as const)
        expectClose(d[k], out[k]);
      expect(Math.abs(d.logit_diff - out.logit_diff)).toBeLessThan(TOL);
      expect(Math.abs(d.total - d.logit_diff)).toBeLessThan(1e-4);
    },
    workLimit({ units: 2, perUnitMs: 60_000 }),
  );

  it(
    "DLA with blank target and foil: the prompt's top-1 against its top-2",
    async () => {
      const { store } = setup();
      store.getState().runReadout("dla");
      await settled(store, "dla");
      const d = store.getState().readouts.dla.result!;
      const top = await engine.predict(PROMPT, 2);
      expect(d.target.id).toBe(top.top[0].id);
      expect(d.foil.id).toBe(top.top[1].id);
      expect(d.logit_diff).toBeGreaterThan(0);
    },
    workLimit({ units: 1, perUnitMs: 60_000 }),
  );

  it(
    "attribution patching: the estimate of every site, then exact patching with Pearson r",
    async () => {
      const { store } = setup();
      store.getState().setPatchSettings({ target: "Parrow", foil: "Belkor" });
      store.getState().runReadout("attrib");
      const pair = ["--clean", PROMPT, "--corrupt", CORRUPT, "--target", "Parrow"];
      // the app's run first: an in-process CLI run would count in its tensorsLeft
      await settled(store, "attrib");
      const out = await cli(["attrib", ...pair, "--foil", "Belkor"]);
      const a = store.getState().readouts.attrib;
      expect(a.run.status).toBe("done");
      expect(a.run.tensorsLeft).toBe(0);
      expect(a.run.evaluations).toBe(
        out.exact.reduce((s: number, c: { evaluations: number }) => s + c.evaluations, 0),
      );
      for (const site of Object.keys(out.scores) as (keyof AttributionScores)[])
        expectClose(a.result?.scores[site], out.scores[site]);
      expect(a.exact.map((c) => c.site)).toEqual(out.exact.map((c: { site: string }) => c.site));
      a.exact.forEach((c, i) => {
        expect(Math.abs(c.correlation - out.exact[i].correlation)).toBeLessThan(1e-4);
        expectClose(c.exact, out.exact[i].exact);
      });
    },
    workLimit({ units: 3, perUnitMs: 120_000 }),
  );
});

describe("read-out lifecycle", () => {
  it(
    "a cancel during exact patching is acknowledged with done {cancelled}, nothing left",
    async () => {
      let cancelled = false;
      const { store } = setup((m, st) => {
        // cancel as a separate macrotask once exact patching has started, as a worker message is
        if (!cancelled && m.type === "progress" && "phase" in m && m.phase === "exact") {
          cancelled = true;
          setImmediate(() => st.getState().cancelReadout("attrib"));
        }
      });
      const before = engine.tensorsInUse();
      store.getState().runReadout("attrib");
      await settled(store, "attrib");
      const a = store.getState().readouts.attrib;
      expect(cancelled).toBe(true);
      expect(a.run.status).toBe("cancelled");
      expect(a.run.tensorsLeft).toBe(0);
      expect(engine.tensorsInUse()).toBe(before);
      expect(a.result).not.toBeNull(); // the estimate arrived before the cancel
      expect(a.exact.length).toBeLessThan(5);
    },
    workLimit({ units: 2, perUnitMs: 120_000 }),
  );

  it(
    "bad input is a coded error; a refused run keeps the result on screen",
    async () => {
      const { store } = setup();
      store.getState().runReadout("lens");
      await settled(store, "lens");
      const shown = store.getState().readouts.lens.result;
      expect(shown).not.toBeNull();
      store.getState().setReadoutSettings({ lensTarget: " Parrow Belkor" });
      store.getState().runReadout("lens");
      await settled(store, "lens");
      const r = store.getState().readouts.lens;
      expect(r.run.status).toBe("error");
      expect(r.run.error?.code).toBe("bad_target");
      expect(r.result).toBe(shown);
      store.getState().setPatchSettings({ corrupt: "Nerzessar lives" });
      store.getState().runReadout("attrib");
      await settled(store, "attrib");
      expect(store.getState().readouts.attrib.run.error?.code).toBe("length_mismatch");
      store.getState().setReadoutSettings({ topK: 0 });
      store.getState().runReadout("lens");
      expect(store.getState().readouts.lens.run.error?.code).toBe("bad_spec");
      expect(store.getState().readouts.lens.result).toBe(shown);
    },
    workLimit({ units: 3, perUnitMs: 60_000 }),
  );

  it(
    "the latest request of a lane wins: an earlier one's answers never reach the store",
    async () => {
      const { store, port } = setup();
      store.getState().setReadoutSettings({ lensTarget: " Belkor" });
      store.getState().runReadout("lens");
      const first = store.getState().readouts.lens.run.reqId;
      store.getState().setReadoutSettings({ lensTarget: " Parrow" });
      store.getState().runReadout("lens");
      await settled(store, "lens");
      expect(store.getState().readouts.lens.result?.target.token).toBe(" Parrow");
      expect(port.messages.some((m) => m.reqId === first && m.type === "lens")).toBe(false);
    },
    workLimit({ units: 2, perUnitMs: 60_000 }),
  );
});
