"use client";
/**
 * Which tfjs backend the worker runs on (WebGPU / WebGL / WASM / CPU), the GPU adapter, and how
 * it was chosen: measured (the calibration timings in the tooltip and the choice line), cached,
 * the only candidate (software GPUs are skipped), or the user's override from the menu (kept in
 * localStorage; `?backend=` in the URL wins). Changing it reloads the model on that backend, and
 * may be done while a calibration runs (the new load cancels it). "WASM ×N" is the threaded
 * build on N threads (cross-origin-isolated pages only); a note says when it failed. While the
 * worker is stopped (components/WorkerStopped.tsx) it says so instead: no backend runs then.
 */
import { useEffect, useState } from "react";
import {
  type BackendChoice,
  backendPreference,
  forgetChoices,
  isBackendName,
  lastChoice,
  PREFERENCE_KEY,
} from "@/lib/model/backend-choice";
import type { BackendName } from "@/lib/protocol";
import type { CausewayState } from "@/lib/store";
import { isWorkerStopped } from "@/lib/store/worker-restart";
import styles from "./BackendBadge.module.css";
import { useCauseway } from "./StoreProvider";

const LABEL: Record<BackendName, string> = {
  webgpu: "WebGPU",
  webgl: "WebGL",
  wasm: "WASM",
  cpu: "CPU",
};

/** "WASM", or "WASM ×4" for the threaded build on 4 threads. */
function label(backend: BackendName, threads?: number): string {
  return threads && threads > 1 ? `${LABEL[backend]} ×${threads}` : LABEL[backend];
}

/** One line per backend: "WASM ×2 41 ms", "WebGPU skipped: software adapter (…)". */
export function choiceLines(c: BackendChoice): string[] {
  const lines = c.timings.map((t) =>
    t.ms !== undefined
      ? `${label(t.backend, t.threads)} ${t.ms} ms`
      : `${label(t.backend, t.threads)} skipped: ${t.skipped}`,
  );
  const how = {
    measured: `measured (${c.pass ?? "calibration pass"}), fastest chosen`,
    cached: "measured earlier on this device for this model shape",
    override: "chosen by you",
    only: "the only usable backend",
  }[c.how];
  const threads = c.threads ? [`${c.threads} threads (cross-origin isolated page)`] : [];
  const note = c.note ? [`Note: ${c.note}`] : [];
  return [`${label(c.chosen, c.threads)}: ${how}`, ...threads, ...note, ...lines];
}

/** The badge's short line: how it was chosen, the timings, and any note. */
export function choiceSummary(c: BackendChoice): string {
  const parts = [c.how === "override" ? "your choice" : "auto"];
  if (c.timings.some((t) => t.skipped?.startsWith("software"))) parts.push("GPU is software");
  const timed = c.timings.filter((t) => t.ms !== undefined);
  if (timed.length > 1)
    parts.push(...timed.map((t) => `${label(t.backend, t.threads)} ${t.ms} ms`));
  if (c.note) parts.push(c.note);
  return parts.join(" · ");
}

type BadgeModel = Pick<CausewayState["model"], "status" | "backend" | "adapter" | "error">;

/** What the badge shows: the stopped worker, no backend (yet), or the backend running the model. */
export interface BadgeView {
  state: "stopped" | "none" | "running";
  name: string;
  title: string;
}

export function badgeView(model: BadgeModel, choice: BackendChoice | null): BadgeView {
  const { backend, adapter } = model;
  if (isWorkerStopped(model)) {
    const ran = backend ? [`It ran on ${label(backend, choice?.threads)}.`] : [];
    const title = [model.error.message, ...ran, "Nothing runs until the worker is restarted."];
    return { state: "stopped", name: "worker stopped", title: title.join("\n") };
  }
  // a load (a restart too) chooses its backend afresh: the previous one no longer runs
  if (!backend || model.status === "loading") {
    const name = model.status === "loading" ? "choosing backend…" : "no backend";
    return { state: "none", name, title: "" };
  }
  const title = [
    adapter ? `${LABEL[backend]} on ${adapter}` : LABEL[backend],
    ...(choice ? choiceLines(choice) : []),
  ].join("\n");
  return { state: "running", name: label(backend, choice?.threads), title };
}

export function BackendBadge() {
  const model = useCauseway((s) => s.model);
  const { backend, adapter, status, source } = model;
  const loadModel = useCauseway((s) => s.loadModel);
  const [choice, setChoice] = useState<BackendChoice | null>(null);
  const [pref, setPref] = useState<string>("auto");

  useEffect(() => {
    setPref(backendPreference()?.[0] ?? "auto");
  }, []);
  useEffect(() => {
    if (status === "loading") setChoice(null); // the next backend's choice is not known yet
    if (status !== "ready" || !backend) return;
    let live = true;
    lastChoice().then((c) => {
      if (live) setChoice(c && c.chosen === backend ? c : null);
    });
    return () => {
      live = false;
    };
  }, [status, backend]);

  const change = async (value: string) => {
    setPref(value);
    try {
      if (isBackendName(value)) localStorage.setItem(PREFERENCE_KEY, value);
      else {
        localStorage.removeItem(PREFERENCE_KEY);
        await forgetChoices(); // auto: measure again
      }
    } catch {
      // storage blocked: the choice holds for this load only
    }
    if (source) loadModel(source);
  };

  const select = (
    <select
      className="badge__select"
      data-testid="backend-select"
      aria-label="Backend"
      value={pref}
      onChange={(e) => void change(e.target.value)}
      style={{ font: "inherit", fontSize: 11.5, border: "none", background: "transparent" }}
    >
      <option value="auto">auto</option>
      {(Object.keys(LABEL) as BackendName[]).map((b) => (
        <option key={b} value={b}>
          {LABEL[b]}
        </option>
      ))}
    </select>
  );

  const view = badgeView(model, choice);
  if (view.state === "stopped") {
    return (
      <span
        className={`badge ${styles.stopped}`}
        data-testid="backend-badge"
        data-backend=""
        data-state="stopped"
        title={view.title}
      >
        <span className="badge__dot" />
        <span className="badge__name" data-testid="backend-name">
          {view.name}
        </span>
        {select}
      </span>
    );
  }
  if (view.state === "none" || !backend) {
    return (
      <span className="badge badge--none" data-testid="backend-badge" data-backend="">
        <span className="badge__dot" />
        {view.name}
        {select}
      </span>
    );
  }
  return (
    <span
      className={`badge badge--${backend}`}
      data-testid="backend-badge"
      data-backend={backend}
      data-choice={choice?.how ?? ""}
      title={view.title}
    >
      <span className="badge__dot" />
      <span className="badge__name" data-testid="backend-name">
        {view.name}
      </span>
      {adapter ? (
        <span className="badge__adapter" data-testid="backend-adapter">
          {adapter}
        </span>
      ) : null}
      {choice ? (
        <span className="badge__adapter" data-testid="backend-choice">
          {choiceSummary(choice)}
        </span>
      ) : null}
      {select}
    </span>
  );
}
