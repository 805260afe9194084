/**
 * A `run` request's path patching (lib/interp/path-patch.ts): its baseline, then one `rows`
 * answer per receiver layer (values[h]); target and foil default as patching's (./sweeps.ts).
 */
import { runPathPatch } from "../lib/interp/path-patch";
import { TraceError } from "../lib/interp/spec";
import type { PathJob } from "../lib/protocol";
import { contrastPair, type SweepRun } from "./sweeps";

export async function runPathJob(job: PathJob, r: SweepRun): Promise<void> {
  const { engine, reqId, post } = r;
  const spec = job.spec;
  if (spec === null || typeof spec !== "object") {
    throw new TraceError("bad_spec", "a path patching spec must be an object");
  }
  r.progress("clean", "path", 0, 0, true);
  const { cleanIds, corruptIds, host, target, foil } = await contrastPair(spec, r);
  const { nLayer, nHead } = engine.model.config;
  const token = (id: number) => ({ id, token: engine.tokenText(id) });
  const t0 = r.now();
  const res = await runPathPatch(
    host,
    { ...spec, target, foil },
    {
      signal: r.signal,
      onBaseline: (b) =>
        post({
          type: "baseline",
          reqId,
          kind: "path",
          baseline: {
            job: "path",
            sender: spec.sender,
            inputs: spec.inputs ?? ["q", "k", "v"],
            cleanIds,
            corruptIds,
            cleanTokens: cleanIds.map((id) => engine.tokenText(id)),
            corruptTokens: corruptIds.map((id) => engine.tokenText(id)),
            target: token(target),
            foil: token(foil),
            cleanLogitDiff: b.clean_logit_diff,
            corruptLogitDiff: b.corrupt_logit_diff,
            nLayer,
            nHead,
          },
        }),
      onRow: ({ index, values }) =>
        post({ type: "rows", reqId, kind: "path", rows: [index], values, width: values.length }, [
          values.buffer,
        ]),
      onProgress: (p) => r.progress("sweep", "path", p.done, p.total, p.done === p.total),
    },
  );
  r.stats.evaluations += res.evaluations;
  r.stats.stages.path = { evaluations: res.evaluations, ms: r.now() - t0 };
}
