/**
 * A ModelPort that records requests instead of running a worker (store tests). It keeps the
 * same latest-request table as the worker client (lib/worker-client.ts LatestRequests), so
 * `deliver` passes on only what the client would: answers to each lane's latest request.
 */
import type { Edit, EditEval, PromptSet } from "../lib/edit/types";
import type {
  BackendName,
  FromWorker,
  GenerateSettings,
  GenerateVariant,
  ModelSource,
  ModelVariant,
  RunJob,
} from "../lib/protocol";
import { type LaneKey, LatestRequests, type ModelPort } from "../lib/worker-client";

export class FakePort implements ModelPort {
  readonly latest = new LatestRequests();
  readonly loads: { reqId: number; source: ModelSource }[] = [];
  readonly predicts: { reqId: number; prompt: string; variant?: ModelVariant }[] = [];
  readonly runs: { reqId: number; job: RunJob; variant?: ModelVariant }[] = [];
  readonly setEditsCalls: { reqId: number; edits: Edit[] }[] = [];
  readonly evals: { reqId: number; index: number }[] = [];
  readonly probes: { reqId: number; positive: PromptSet; negative: PromptSet }[] = [];
  readonly curves: { reqId: number; edit: Edit; alphas: number[]; ev: EditEval }[] = [];
  readonly generations: {
    reqId: number;
    prompt: string;
    settings: GenerateSettings;
    variant: GenerateVariant;
  }[] = [];
  editCancels = 0;
  evalCancels = 0;
  generateCancels = 0;
  readonly attentions: { reqId: number; prompt: string; layer: number; head: number }[] = [];
  cancels = 0;
  predictCancels = 0;
  private listener: ((msg: FromWorker, lane: LaneKey) => void) | null = null;

  /** Where `deliver` sends current answers (the store's receive). */
  listen(fn: (msg: FromWorker, lane: LaneKey) => void): this {
    this.listener = fn;
    return this;
  }
  /** An answer from the "worker": dropped unless it answers its lane's latest request. */
  deliver(msg: FromWorker): void {
    const lane = this.latest.laneOf(msg.reqId);
    if (lane) this.listener?.(msg, lane);
  }

  load(source: ModelSource, _backends?: BackendName[]): number {
    const reqId = this.latest.issue("load");
    this.loads.push({ reqId, source });
    return reqId;
  }
  predict(prompt: string, _topK?: number, variant?: ModelVariant): number {
    const reqId = this.latest.issue("predict");
    this.predicts.push({ reqId, prompt, variant });
    return reqId;
  }
  cancelPredict(): void {
    this.latest.forget("predict");
    this.predictCancels++;
  }
  run(job: RunJob, variant?: ModelVariant): number {
    const reqId = this.latest.issue("run");
    this.runs.push({ reqId, job, variant });
    return reqId;
  }
  cancelRun(): void {
    this.cancels++;
  }
  attention(prompt: string, layer: number, head: number): number {
    const reqId = this.latest.issue("attention");
    this.attentions.push({ reqId, prompt, layer, head });
    return reqId;
  }
  tokenize(): number {
    return this.latest.issue("tokenize");
  }
  setEdits(edits: Edit[]): number {
    const reqId = this.latest.issue("setEdits");
    this.setEditsCalls.push({ reqId, edits: structuredClone(edits) });
    return reqId;
  }
  cancelEdits(): void {
    this.latest.forget("setEdits");
    this.editCancels++;
  }
  evalEdit(index: number): number {
    const reqId = this.latest.issue("evalEdit");
    this.evals.push({ reqId, index });
    return reqId;
  }
  cancelEval(): void {
    this.latest.forget("evalEdit");
    this.evalCancels++;
  }
  probeHeads(positive: PromptSet, negative: PromptSet): number {
    const reqId = this.latest.issue("probeHeads");
    this.probes.push({ reqId, positive, negative });
    return reqId;
  }
  alphaCurve(edit: Edit, alphas: number[], ev: EditEval): number {
    const reqId = this.latest.issue("alphaCurve");
    this.curves.push({ reqId, edit, alphas, ev });
    return reqId;
  }
  generate(prompt: string, settings: GenerateSettings, variant: GenerateVariant): number {
    const reqId = this.latest.issue(`generate:${variant}`);
    this.generations.push({ reqId, prompt, settings, variant });
    return reqId;
  }
  cancelGenerate(variant: GenerateVariant): void {
    this.latest.forget(`generate:${variant}`);
    this.generateCancels++;
  }
  dispose(): void {}

  lastRun() {
    const r = this.runs.at(-1);
    if (!r) throw new Error("no run was requested");
    return r;
  }
}
