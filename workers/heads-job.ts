/**
 * The `heads` lane: every head's attention pattern on a prompt (lib/interp/head-patterns.ts),
 * then the per-head scores (lib/interp/head-scores.ts, the numbers `causeway heads` prints), on
 * the loaded model without edits. Answers, in order: progress "patterns" 0/2, `headPatterns`,
 * progress "scores" 1/2, `headScores`, `done`. A cancel stops it between the two phases and is
 * acknowledged with `done {cancelled: true}`; every tensor is freed inside lib/ before a phase's
 * promise settles, and the phases run through `track` so a sweep counts its tensors while none
 * is in flight.
 */

import { nextTick } from "../lib/interp/cancel";
import { allHeadPatterns } from "../lib/interp/head-patterns";
import { headScores } from "../lib/interp/head-scores";
import type { HeadsPhase, RequestOf } from "../lib/protocol";
import { now } from "../lib/util/clock";
import { Lane, requireEngine } from "./lane";
import type { RequestHost } from "./model-requests";

export function headsLane(host: Omit<RequestHost, "edited">): Lane<RequestOf<"heads">> {
  return new Lane({
    post: host.post,
    answersAfterCancel: true,
    run: async ({ reqId, msg, post, signal }) => {
      const engine = requireEngine(await host.engine());
      const t0 = now();
      const progress = (phase: HeadsPhase, done: number) =>
        post({ type: "progress", request: "heads", reqId, phase, done, total: 2 });
      /** The end of the request: done, cancelled or not. */
      const done = (cancelled: boolean) =>
        post({
          type: "done",
          reqId,
          ms: now() - t0,
          tensorsLeft: engine.tensorsInUse(),
          ...(cancelled ? { cancelled } : {}),
        });
      progress("patterns", 0);
      const shown = await host.track(allHeadPatterns(engine, msg.prompt));
      const transfer = shown.patterns ? [shown.patterns.buffer] : [];
      post({ type: "headPatterns", reqId, ...shown }, transfer);
      await nextTick(); // a macrotask: a `cancel` message can arrive before the scores start
      if (signal.aborted) return done(true);
      progress("scores", 1);
      const spec = { prompt: msg.prompt, ...(msg.subject ? { subject: msg.subject } : {}) };
      const result = await host.track(headScores(engine, spec));
      if (signal.aborted) return done(true);
      post({ type: "headScores", reqId, result });
      done(false);
    },
  });
}
