/** A ModelPort that records requests instead of running a worker (store tests). */
import type { Edit, EditEval, PromptSet } from "../lib/edit/types";
import type { BackendName, ModelSource, ModelVariant, RunJob } from "../lib/protocol";
import type { ModelPort } from "../lib/worker-client";

export class FakePort implements ModelPort {
  private next = 1;
  readonly loads: { reqId: number; source: ModelSource }[] = [];
  readonly predicts: { reqId: number; prompt: string; variant?: ModelVariant }[] = [];
  readonly runs: { reqId: number; job: RunJob; variant?: ModelVariant }[] = [];
  readonly setEditsCalls: { reqId: number; edits: Edit[] }[] = [];
  readonly evals: { reqId: number; index: number }[] = [];
  readonly probes: { reqId: number; positive: PromptSet; negative: PromptSet }[] = [];
  readonly curves: { reqId: number; edit: Edit; alphas: number[]; ev: EditEval }[] = [];
  editCancels = 0;
  evalCancels = 0;
  readonly attentions: { reqId: number; prompt: string; layer: number; head: number }[] = [];
  cancels = 0;
  predictCancels = 0;

  load(source: ModelSource, _backends?: BackendName[]): number {
    const reqId = this.next++;
    this.loads.push({ reqId, source });
    return reqId;
  }
  predict(prompt: string, _topK?: number, variant?: ModelVariant): number {
    const reqId = this.next++;
    this.predicts.push({ reqId, prompt, variant });
    return reqId;
  }
  cancelPredict(): void {
    this.predictCancels++;
  }
  run(job: RunJob, variant?: ModelVariant): number {
    const reqId = this.next++;
    this.runs.push({ reqId, job, variant });
    return reqId;
  }
  cancelRun(): void {
    this.cancels++;
  }
  attention(prompt: string, layer: number, head: number): number {
    const reqId = this.next++;
    this.attentions.push({ reqId, prompt, layer, head });
    return reqId;
  }
  tokenize(): number {
    return this.next++;
  }
  setEdits(edits: Edit[]): number {
    const reqId = this.next++;
    this.setEditsCalls.push({ reqId, edits: structuredClone(edits) });
    return reqId;
  }
  cancelEdits(): void {
    this.editCancels++;
  }
  evalEdit(index: number): number {
    const reqId = this.next++;
    this.evals.push({ reqId, index });
    return reqId;
  }
  cancelEval(): void {
    this.evalCancels++;
  }
  probeHeads(positive: PromptSet, negative: PromptSet): number {
    const reqId = this.next++;
    this.probes.push({ reqId, positive, negative });
    return reqId;
  }
  alphaCurve(edit: Edit, alphas: number[], ev: EditEval): number {
    const reqId = this.next++;
    this.curves.push({ reqId, edit, alphas, ev });
    return reqId;
  }
  dispose(): void {}

  lastRun() {
    const r = this.runs.at(-1);
    if (!r) throw new Error("no run was requested");
    return r;
  }
}
