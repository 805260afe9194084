/**
 * The worker's `generate` requests: text after a prompt from the original or the edited model
 * (lib/edit/generate.ts), one lane per variant so the UI can ask for both side by side. In each
 * lane the latest request wins: a newer one (or a `cancel`) stops the running one between
 * tokens, and a stale answer is never posted. Progress (phase "generate") after every token.
 */
import type { ModelLike } from "../lib/edit/apply";
import { generate } from "../lib/edit/generate";
import type { Engine } from "../lib/engine";
import type { ModelVariant, ToWorker } from "../lib/protocol";
import { errorMessage, type Post } from "./jobs";

type GenerateMsg = Extract<ToWorker, { type: "generate" }>;

export interface GenerateHost {
  post: Post;
  engine: () => Promise<Engine | null>;
  /** The model with the current edit stack, or null when the stack changes nothing. */
  edited: () => ModelLike | null;
  /** Marks a request that holds tensors (the worker's SideJobs). */
  track: <T>(p: Promise<T>) => Promise<T>;
}

export class GenerateJobs {
  private readonly latest = new Map<ModelVariant, number>();

  constructor(private readonly host: GenerateHost) {}

  submit(msg: GenerateMsg): Promise<void> {
    const variant = msg.variant ?? "edited";
    this.latest.set(variant, msg.reqId);
    return this.run(msg, variant);
  }

  /** True when reqId was a generation (it stops at the next token). */
  cancel(reqId: number): boolean {
    for (const [v, id] of this.latest) {
      if (id === reqId) {
        this.latest.set(v, 0);
        return true;
      }
    }
    return false;
  }

  private async run(msg: GenerateMsg, variant: ModelVariant): Promise<void> {
    const { reqId, settings } = msg;
    const live = () => this.latest.get(variant) === reqId;
    const { post } = this.host;
    try {
      const engine = await this.host.engine();
      if (!live()) return;
      if (!engine) {
        post({ type: "error", reqId, code: "no_model", message: "No model is loaded" });
        return;
      }
      const edited = variant === "edited" ? this.host.edited() : null;
      const model: ModelLike = edited ?? engine.model;
      const t0 = performance.now();
      const g = await this.host.track(
        generate(model, engine.tokenizer, msg.prompt, {
          maxNew: settings.maxNew,
          sample: settings.sample,
          seed: settings.seed,
          temperature: settings.temperature,
          topK: settings.topK,
          eosId: (engine.tokenizer as { eosId?: number }).eosId,
          shouldStop: () => !live(),
          onToken: (_, i) => {
            if (live()) {
              post({
                type: "progress",
                reqId,
                phase: "generate",
                done: i + 1,
                total: settings.maxNew,
              });
            }
          },
        }),
      );
      if (!live()) return;
      const ms = performance.now() - t0;
      post({
        type: "generated",
        reqId,
        variant,
        result: {
          promptIds: g.promptIds,
          ids: g.ids,
          tokens: g.ids.map((id) => engine.tokenText(id)),
          text: g.text,
          stop: g.stop,
          sameAsOriginal: variant === "edited" && edited === null,
        },
        ms,
      });
      post({ type: "done", reqId, ms, tensorsLeft: engine.tensorsInUse() });
    } catch (e) {
      if (live()) post(errorMessage(reqId, e));
    }
  }
}
