/**
 * Turns a load's progress (phases, weight files done) and its byte counts into throttled
 * `progress` messages with bytes done / expected, speed and an ETA.
 */
import type { FileSource } from "../lib/load/types";
import type { FromWorker, LoadPhase } from "../lib/protocol";
import { now as clock } from "../lib/util/clock";

const INTERVAL_MS = 100;

export class LoadMeter {
  private lastPost = Number.NEGATIVE_INFINITY;
  private lastPhase: LoadPhase | "" = "";
  /** bytes of finished files + the current file's bytes so far */
  private doneBefore = 0;
  private current = { name: "", loaded: 0, total: 0 };
  private totalBefore = 0;
  private started: number | null = null;
  note: string | undefined;

  constructor(
    private readonly reqId: number,
    private readonly post: (msg: FromWorker) => void,
    private readonly live: () => boolean,
    private readonly now: () => number = clock,
  ) {}

  /** A file read reports bytes (loaded of total, total unknown when undefined). */
  bytes(name: string, loaded: number, total: number | undefined): void {
    if (name !== this.current.name) {
      this.doneBefore += this.current.loaded;
      this.totalBefore += Math.max(this.current.total, this.current.loaded);
      this.current = { name, loaded: 0, total: 0 };
    }
    this.started ??= this.now();
    this.current.loaded = loaded;
    this.current.total = total ?? 0;
  }

  phase(phase: LoadPhase, done: number, total: number): void {
    if (!this.live()) return;
    const t = this.now();
    const force = phase !== this.lastPhase || done >= total;
    if (!force && t - this.lastPost < INTERVAL_MS) return;
    this.lastPost = t;
    this.lastPhase = phase;
    const bytes = this.doneBefore + this.current.loaded;
    const bytesTotal = this.totalBefore + Math.max(this.current.total, this.current.loaded);
    const msg: Extract<FromWorker, { type: "progress" }> = {
      type: "progress",
      request: "load",
      reqId: this.reqId,
      phase,
      done,
      total,
    };
    if (bytes > 0) {
      msg.bytes = bytes;
      msg.bytesTotal = bytesTotal;
      const seconds = this.started !== null ? (t - this.started) / 1000 : 0;
      if (seconds > 0.2) {
        msg.bytesPerSec = bytes / seconds;
        // Weights are all files but the small ones: their done/total fraction drives the ETA.
        const frac = phase === "weights" && total > 0 ? done / total : 0;
        if (frac > 0.01 && frac < 1) msg.etaMs = ((seconds * (1 - frac)) / frac) * 1000;
      }
    }
    if (this.note) msg.note = this.note;
    this.post(msg);
  }
}

/** The same source, reporting every file's bytes to the meter (and streaming every read). */
export function meteredSource(source: FileSource, meter: LoadMeter): FileSource {
  return {
    label: source.label,
    has: (name) => source.has(name),
    read: (name, onBytes, opts) =>
      source.read(
        name,
        (loaded, total) => {
          meter.bytes(name, loaded, total);
          onBytes?.(loaded, total);
        },
        opts,
      ),
  };
}
