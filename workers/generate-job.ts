/**
 * The worker's `generate` requests: text after a prompt from the original or the edited model
 * (lib/edit/generate.ts), one lane (./lane.ts) per variant so the UI can ask for both side by
 * side. In each lane the latest request wins: a newer one (or a `cancel`) stops the running one
 * between tokens, and a stale answer is never posted. Progress after every token.
 */
import type { ModelLike } from "../lib/edit/apply";
import { generate } from "../lib/edit/generate";
import type { Engine } from "../lib/engine";
import type { GenerateVariant, RequestOf } from "../lib/protocol";
import { now } from "../lib/util/clock";
import { type Job, Lane, type Post, requireEngine } from "./lane";

type GenerateMsg = RequestOf<"generate">;

export interface GenerateHost {
  post: Post;
  engine: () => Promise<Engine | null>;
  /** The model with the current edit stack, or null when the stack changes nothing. */
  edited: () => ModelLike | null;
  /** Marks a request that holds tensors (the worker's SideJobs). */
  track: <T>(p: Promise<T>) => Promise<T>;
}

export class GenerateJobs {
  private readonly lanes: Record<GenerateVariant, Lane<GenerateMsg>>;

  constructor(private readonly host: GenerateHost) {
    const lane = () => new Lane<GenerateMsg>({ post: host.post, run: (job) => this.run(job) });
    this.lanes = { original: lane(), edited: lane() };
  }

  /** Resolves when that variant's lane has nothing left to run (tests wait on it). */
  submit(msg: GenerateMsg): Promise<void> {
    const lane = this.lanes[msg.variant === "original" ? "original" : "edited"];
    lane.submit(msg);
    return lane.idle();
  }

  /** True when reqId was a generation (it stops at the next token). */
  cancel(reqId: number): boolean {
    return this.lanes.original.cancel(reqId) || this.lanes.edited.cancel(reqId);
  }

  /** Resolves when neither variant has a generation in flight. */
  async idle(): Promise<void> {
    await Promise.all([this.lanes.original.idle(), this.lanes.edited.idle()]);
  }

  private async run(job: Job<GenerateMsg>): Promise<void> {
    const { reqId, msg, post } = job;
    const { settings } = msg;
    const variant: GenerateVariant = msg.variant === "original" ? "original" : "edited";
    const engine = requireEngine(await this.host.engine());
    if (!job.live()) return;
    const edited = variant === "edited" ? this.host.edited() : null;
    const model: ModelLike = edited ?? engine.model;
    const t0 = now();
    const g = await this.host.track(
      generate(model, engine.tokenizer, msg.prompt, {
        maxNew: settings.maxNew,
        sample: settings.sample,
        seed: settings.seed,
        temperature: settings.temperature,
        topK: settings.topK,
        eosId: (engine.tokenizer as { eosId?: number }).eosId,
        shouldStop: () => job.signal.aborted,
        onToken: (_, i) =>
          post({
            type: "progress",
            request: "generate",
            reqId,
            phase: "generate",
            done: i + 1,
            total: settings.maxNew,
          }),
      }),
    );
    if (!job.live()) return;
    const ms = now() - t0;
    post({
      type: "generate",
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
  }
}
