"use client";
/**
 * Picks the model (bundled, a URL with the HF files, a hub repo id, or local files) and shows how
 * loading is going: bytes, speed, ETA, a cancel button, and the memory warning if any.
 */
import { type FormEvent, useState } from "react";
import { DEFAULT_SWEEP, estimateMemory, gib } from "@/lib/load/memory-estimate";
import { BUNDLED_MODELS, modelDisplayName } from "@/lib/load/source-trust";
import type { Gpt2Config } from "@/lib/load/types";
import type { ModelSource } from "@/lib/protocol";
import type { Progress } from "@/lib/store/types";
import { isWorkerStopped } from "@/lib/store/worker-restart";
import { bytes, count } from "./format";
import { ModelCachePanel } from "./ModelCachePanel";
import { ModelSourceFiles } from "./ModelSourceFiles";
import { ModelSourceHub } from "./ModelSourceHub";
import { useCauseway } from "./StoreProvider";
import { WorkerStopped } from "./WorkerStopped";

function sourceKey(source: ModelSource | null): string {
  if (!source) return "";
  switch (source.kind) {
    case "bundled":
      return `bundled:${source.name}`;
    case "url":
      return `url:${source.baseUrl}`;
    case "hub":
      return `hub:${source.repo}@${source.revision ?? "main"}`;
    case "files":
      return `files:${source.name}`;
  }
}

export function ModelPicker() {
  const model = useCauseway((s) => s.model);
  const loadModel = useCauseway((s) => s.loadModel);
  const [url, setUrl] = useState("");
  const key = sourceKey(model.source);
  // The name comes from the source itself (a link cannot name a foreign model "tiny-facts").
  const shown =
    model.source && typeof window !== "undefined"
      ? modelDisplayName(model.source, window.location.origin)
      : key.slice(key.indexOf(":") + 1);

  const onSelect = (value: string) => {
    if (value.startsWith("bundled:")) loadModel({ kind: "bundled", name: value.slice(8) });
  };
  const onUrl = (e: FormEvent) => {
    e.preventDefault();
    const baseUrl = url.trim();
    if (baseUrl) loadModel({ kind: "url", baseUrl });
  };

  return (
    <div className="picker" data-testid="model-picker">
      <label className="picker__label">
        <span className="eyebrow">Model</span>
        <select
          className="picker__select"
          value={key.startsWith("bundled:") ? key : ""}
          onChange={(e) => onSelect(e.target.value)}
          data-testid="model-select"
        >
          {key && !key.startsWith("bundled:") ? <option value="">{shown}</option> : null}
          {BUNDLED_MODELS.map((name) => (
            <option key={name} value={`bundled:${name}`}>
              {name} (bundled)
            </option>
          ))}
        </select>
      </label>
      {/* The other sources side by side (each opens below its own summary). */}
      <div style={{ display: "flex", flexWrap: "wrap", columnGap: 14, alignItems: "flex-start" }}>
        <details className="picker__url">
          <summary>from URL…</summary>
          <form onSubmit={onUrl}>
            <input
              type="url"
              placeholder="https://host/path/to/model/"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              aria-label="Model base URL (folder with config.json, model.safetensors, tokenizer.json)"
              data-testid="model-url"
            />
            <button type="submit">Load</button>
          </form>
        </details>
        <ModelSourceHub />
        <ModelSourceFiles />
        <ModelCachePanel />
      </div>
      <LoadStatus />
    </div>
  );
}

/** Loading phases in order, with the share of the bar each one fills. */
const PHASES: [string, number][] = [
  ["start", 0],
  ["backend", 0.05],
  ["config", 0.05],
  ["tokenizer", 0.1],
  ["weights", 0.7],
  ["upload", 0.1],
];

/** One bar for the whole load: the finished phases plus the current phase's fraction. */
function overall(phase: string, frac: number): number {
  let before = 0;
  for (const [name, share] of PHASES) {
    if (name === phase) return Math.min(1, before + share * frac);
    before += share;
  }
  return frac; // a phase this bar does not know: show its own fraction
}

/** "12.3 MB / 498 MB · 4.1 MB/s · 2 min left", or the percentage when no bytes are known. */
function loadDetail(p: Progress | null, frac: number): string {
  if (!p?.bytes) return `${Math.round(frac * 100)}%`;
  const parts = [`${bytes(p.bytes)} / ${bytes(Math.max(p.bytes, p.bytesTotal ?? 0))}`];
  if (p.bytesPerSec) parts.push(`${bytes(Math.round(p.bytesPerSec))}/s`);
  if (p.etaMs !== undefined && p.phase === "weights") parts.push(`${eta(p.etaMs)} left`);
  return parts.join(" · ");
}

function eta(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The loaded model's memory, from lib/load/memory-estimate.ts (formula in docs/models.md). */
function MemoryLine({ config }: { config: Gpt2Config }) {
  const e = estimateMemory(config);
  return (
    <span
      className="load__time"
      data-testid="load-memory"
      title={`float32 weights on the backend; a ${DEFAULT_SWEEP.tokens}-token trace sweep adds about ${gib(e.activationBytes)} of activations`}
    >
      {gib(e.weightBytes)} weights
    </span>
  );
}

function LoadStatus() {
  const model = useCauseway((s) => s.model);
  const cancelLoad = useCauseway((s) => s.cancelLoad);
  if (model.status === "loading") {
    const p = model.progress;
    const frac = overall(p?.phase ?? "start", p && p.total > 0 ? Math.min(1, p.done / p.total) : 0);
    const detail = loadDetail(p, frac);
    return (
      <div className="load" data-testid="load-status" data-status="loading">
        <div
          className="load__bar"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(frac * 100)}
          aria-label="Loading model"
        >
          <div className="load__fill" style={{ width: `${frac * 100}%` }} />
        </div>
        <span className="load__text" data-testid="load-detail">
          {p?.phase ?? "starting"} · {detail}
        </span>
        <button type="button" onClick={cancelLoad} data-testid="load-cancel">
          Cancel
        </button>
        {p?.note ? (
          <output className="load__note" data-testid="load-note">
            {p.note}
          </output>
        ) : null}
      </div>
    );
  }
  if (isWorkerStopped(model)) {
    return <WorkerStopped message={model.error.message} />;
  }
  if (model.status === "error") {
    return (
      <div className="load load--error" data-testid="load-status" data-status="error" role="alert">
        <strong>Could not load the model.</strong>{" "}
        <span data-testid="load-error">{model.error?.message}</span>
      </div>
    );
  }
  if (model.status === "ready" && model.info) {
    const c = model.info.config;
    return (
      <div className="load load--ready" data-testid="load-status" data-status="ready">
        <span className="load__meta" title="parameters · layers · heads · d_model · context">
          {count(model.info.nParams)} params · {c.nLayer}L · {c.nHead}H · d={c.dModel} · ctx{" "}
          {c.nCtx}
        </span>
        <MemoryLine config={c} />
        {model.error?.code === "cancelled" ? (
          <span data-testid="load-cancelled">{model.error.message}</span>
        ) : model.error ? (
          // a failed load keeps this model (lib/store/model-slice.ts loadFailed)
          <span className="load--error" role="alert">
            <strong>Could not load the model.</strong>{" "}
            <span data-testid="load-error">{model.error.message}</span>
          </span>
        ) : null}
        {model.loadMs !== null ? (
          <span className="load__time">loaded in {(model.loadMs / 1000).toFixed(1)} s</span>
        ) : null}
      </div>
    );
  }
  return <div className="load" data-testid="load-status" data-status="idle" />;
}
