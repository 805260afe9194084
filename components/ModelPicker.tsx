"use client";
/** Picks the model (bundled, or any URL with the HF files) and shows how loading is going. */
import { type FormEvent, useState } from "react";
import type { ModelSource } from "@/lib/protocol";
import { bytes, count } from "./format";
import { useCauseway } from "./StoreProvider";

export const BUNDLED_MODELS = ["tiny-facts"] as const;

function sourceKey(source: ModelSource | null): string {
  if (!source) return "";
  return source.kind === "bundled" ? `bundled:${source.name}` : `url:${source.baseUrl}`;
}

export function ModelPicker() {
  const model = useCauseway((s) => s.model);
  const loadModel = useCauseway((s) => s.loadModel);
  const [url, setUrl] = useState("");
  const key = sourceKey(model.source);

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
          {key.startsWith("url:") ? (
            <option value="">{model.info?.name ?? "from URL"}</option>
          ) : null}
          {BUNDLED_MODELS.map((name) => (
            <option key={name} value={`bundled:${name}`}>
              {name} (bundled)
            </option>
          ))}
        </select>
      </label>
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

function LoadStatus() {
  const model = useCauseway((s) => s.model);
  if (model.status === "loading") {
    const p = model.progress;
    const frac = overall(p?.phase ?? "start", p && p.total > 0 ? Math.min(1, p.done / p.total) : 0);
    const detail =
      p && p.total > 4096 ? `${bytes(p.done)} / ${bytes(p.total)}` : `${Math.round(frac * 100)}%`;
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
        <span className="load__text">
          {p?.phase ?? "starting"} · {detail}
        </span>
      </div>
    );
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
        {model.loadMs !== null ? (
          <span className="load__time">loaded in {(model.loadMs / 1000).toFixed(1)} s</span>
        ) : null}
      </div>
    );
  }
  return <div className="load" data-testid="load-status" data-status="idle" />;
}
