/**
 * The app's one "latest request" table (used by the worker client, lib/worker-client.ts, and the
 * store tests' fake port): the reqId of the latest request of each lane, and which of them still
 * wait for their last answer — what a dying worker must fail, and nothing it already finished.
 */
import type { FromWorker, GenerateVariant, RequestType, ToWorker } from "./protocol";

/**
 * A lane of requests where the latest wins: a request type, except that generation keeps one
 * lane per variant (the original and the edited model generate side by side).
 */
export type LaneKey = Exclude<RequestType, "generate"> | `generate:${GenerateVariant}`;

export type Request = Exclude<ToWorker, { type: "cancel" }>;
/** A request before the client gives it its reqId. */
export type Body = Request extends infer R ? (R extends Request ? Omit<R, "reqId"> : never) : never;

/** The lane a request belongs to. */
export function laneOf(msg: Body | Request): LaneKey {
  return msg.type === "generate" ? `generate:${msg.variant ?? "edited"}` : msg.type;
}

/**
 * Answers after which a request has nothing more to say. Every request ends with `done` or
 * `error` except these, whose one answer is their last (workers/load.ts, model-requests.ts
 * tokenize, edit-lane.ts probeHeads / alphaCurve / batchMethods).
 */
const LAST_ANSWERS: ReadonlySet<FromWorker["type"]> = new Set([
  "done",
  "error",
  "load",
  "tokenize",
  "probeHeads",
  "alphaCurve",
  "batchMethods",
]);

/**
 * A load makes every other request stale (a new model); a forgotten lane's answers are dropped.
 * A request is open from `issue` until its last answer is `seen` (or it is forgotten).
 */
export class LatestRequests {
  private readonly latest = new Map<LaneKey, number>();
  private readonly open = new Set<number>();
  private next = 1;

  /** A new reqId, now the latest of `lane`. */
  issue(lane: LaneKey): number {
    const reqId = this.next++;
    if (lane === "load") {
      this.latest.clear();
      this.open.clear(); // their answers are dropped from now on: nothing waits for them
    } else {
      this.open.delete(this.current(lane));
    }
    this.latest.set(lane, reqId);
    this.open.add(reqId);
    return reqId;
  }

  /** The latest reqId of `lane` (0: none). */
  current(lane: LaneKey): number {
    return this.latest.get(lane) ?? 0;
  }

  /** Drops `lane`'s latest request (its later answers are stale); returns its reqId (0: none). */
  forget(lane: LaneKey): number {
    const reqId = this.current(lane);
    this.latest.delete(lane);
    this.open.delete(reqId);
    return reqId;
  }

  /** The lane whose latest request `reqId` is, or null when the answer is stale. */
  laneOf(reqId: number): LaneKey | null {
    if (reqId === 0) return null;
    for (const [lane, id] of this.latest) if (id === reqId) return lane;
    return null;
  }

  /** Notes an answer: after its request's last one, that request no longer waits. */
  seen(msg: FromWorker): void {
    if (LAST_ANSWERS.has(msg.type)) this.open.delete(msg.reqId);
  }

  /** The lanes whose latest request still waits for an answer, forgetting every lane. */
  drain(): [LaneKey, number][] {
    const waiting = [...this.latest].filter(([, reqId]) => this.open.has(reqId));
    this.latest.clear();
    this.open.clear();
    return waiting;
  }
}
