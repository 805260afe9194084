/**
 * The small requests on the loaded model, each on its own lane (./lane.ts): `predict` (the top
 * next tokens, with the original model's beside an edited one), `attention` (one head's
 * pattern) and `tokenize`. They hold tensors only through `track` (the worker's SideJobs), so a
 * sweep counts its tensor balance while none is in flight.
 */
import type { EditedModel } from "../lib/edit/apply";
import type { Engine } from "../lib/engine";
import type { ModelVariant, RequestOf } from "../lib/protocol";
import { attentionPattern, editedEngine } from "../lib/queries";
import { now } from "../lib/util/clock";
import { Lane, type Post, requireEngine } from "./lane";

export interface RequestHost {
  post: Post;
  engine(): Promise<Engine | null>;
  /** The edited model a request of this variant runs on, or null for the plain model. */
  edited(engine: Engine, variant: ModelVariant | undefined): EditedModel | null;
  track<T>(p: Promise<T>): Promise<T>;
}

/** The engine a request of `variant` on `prompt` runs on. */
function engineFor(
  host: RequestHost,
  engine: Engine,
  variant: ModelVariant | undefined,
  prompt: string,
) {
  const edited = host.edited(engine, variant);
  return { on: edited ? editedEngine(engine, edited, prompt) : engine, edited };
}

export function predictLane(host: RequestHost): Lane<RequestOf<"predict">> {
  return new Lane({
    post: host.post,
    run: async ({ reqId, msg, post, signal }) => {
      const engine = requireEngine(await host.engine());
      if (signal.aborted) return; // a newer prompt arrived meanwhile
      const t0 = now();
      // the first prediction after a load compiles the model's kernels: say it has started
      post({ type: "progress", request: "predict", reqId, phase: "predict", done: 0, total: 1 });
      const { on, edited } = engineFor(host, engine, msg.variant, msg.prompt);
      const prediction = await host.track(on.predict(msg.prompt, msg.topK));
      // beside an edited prediction, the original one (for the side-by-side bars)
      const original = edited ? await host.track(engine.predict(msg.prompt, msg.topK)) : undefined;
      const ms = now() - t0;
      post({ type: "predict", reqId, prediction, ...(original ? { original } : {}), ms });
      post({ type: "done", reqId, ms, tensorsLeft: engine.tensorsInUse() });
    },
  });
}

export function attentionLane(host: RequestHost): Lane<RequestOf<"attention">> {
  return new Lane({
    post: host.post,
    run: async ({ reqId, msg, post }) => {
      const engine = requireEngine(await host.engine());
      const t0 = now();
      const { on } = engineFor(host, engine, msg.variant, msg.prompt);
      const { layer, head } = msg;
      const { tokens, pattern } = await host.track(attentionPattern(on, msg.prompt, layer, head));
      post({ type: "attention", reqId, layer, head, tokens, pattern }, [pattern.buffer]);
      post({ type: "done", reqId, ms: now() - t0, tensorsLeft: engine.tensorsInUse() });
    },
  });
}

export function tokenizeLane(host: RequestHost): Lane<RequestOf<"tokenize">> {
  return new Lane({
    post: host.post,
    run: async ({ reqId, msg, post }) => {
      const engine = requireEngine(await host.engine());
      post({ type: "tokenize", reqId, items: msg.texts.map((t) => engine.tokenize(t)) });
    },
  });
}
