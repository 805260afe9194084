/** A ModelPort that records requests instead of running a worker (store tests). */
import type { BackendName, ModelSource, RunJob } from "../lib/protocol";
import type { ModelPort } from "../lib/worker-client";

export class FakePort implements ModelPort {
  private next = 1;
  readonly loads: { reqId: number; source: ModelSource }[] = [];
  readonly predicts: { reqId: number; prompt: string }[] = [];
  readonly runs: { reqId: number; job: RunJob }[] = [];
  readonly attentions: { reqId: number; prompt: string; layer: number; head: number }[] = [];
  cancels = 0;
  predictCancels = 0;

  load(source: ModelSource, _backends?: BackendName[]): number {
    const reqId = this.next++;
    this.loads.push({ reqId, source });
    return reqId;
  }
  predict(prompt: string): number {
    const reqId = this.next++;
    this.predicts.push({ reqId, prompt });
    return reqId;
  }
  cancelPredict(): void {
    this.predictCancels++;
  }
  run(job: RunJob): number {
    const reqId = this.next++;
    this.runs.push({ reqId, job });
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
  dispose(): void {}

  lastRun() {
    const r = this.runs.at(-1);
    if (!r) throw new Error("no run was requested");
    return r;
  }
}
