/**
 * A `run` request's path patching (lib/interp/path-patch.ts) through the contrast-job runner
 * (./sweeps.ts runContrastJob, as activation patching): its baseline, one `rows` answer per
 * receiver layer (values[h]; none when only the receiver set is asked for, perHead: false), then
 * `pathJoint` when the spec names receivers.
 */
import { RECEIVER_INPUTS, runPathPatch } from "../lib/interp/path-patch";
import type { PathJob } from "../lib/protocol";
import { runContrastJob, type SweepRun } from "./sweeps";

export async function runPathJob(job: PathJob, r: SweepRun): Promise<void> {
  const spec = job.spec;
  const res = await runContrastJob(r, {
    spec,
    what: "a path patching spec",
    kind: "path",
    baseline: () => ({
      job: "path",
      sender: spec.sender,
      inputs: spec.inputs ?? [...RECEIVER_INPUTS],
    }),
    run: (host, s, callbacks) => runPathPatch(host, s, callbacks),
  });
  if (res.joint !== null) {
    r.post({ type: "pathJoint", reqId: r.reqId, receivers: res.receivers, joint: res.joint });
  }
}
