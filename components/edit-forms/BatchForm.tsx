"use client";
/**
 * Batch / sequential editing: many rewrites at once with the methods the worker's BATCH_METHODS
 * lists (ROME, MEMIT, AlphaEdit, PMET, SWEA; lib/edit/batch-methods.ts), BLUE as a switch, over a layer range that
 * defaults to the causal trace's MLP peak (SWEA: no layers and no C, its own settings). The run
 * goes through the worker (store batch slice), is measured after every batch as `causeway edit
 * --counterfact … --batch … --sequential` does, and its learned edits go onto the edit stack. The rewrites: the next N cases of the model's
 * dataset, pasted JSON / JSONL in ROME's fields, or a CounterFact / zsRE file; C's corpus may be
 * the model's own text or a file the user brings.
 */
import { useEffect, useState } from "react";
import { BATCH_METHOD_TITLES, type BatchMethod } from "@/lib/edit/batch-methods";
import type { CovSource } from "@/lib/edit/types";
import { EDIT_PARAMS, EDIT_RUN_PARAMS } from "@/lib/params/table";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import s from "./Batch.module.css";
import { BatchCorpus } from "./BatchCorpus";
import { BatchRewrites } from "./BatchRewrites";
import { BatchRun } from "./BatchRun";
import { BatchStatsCache } from "./BatchStatsCache";
import {
  type BatchDraft,
  batchSpec,
  type ImportedRewrites,
  mlpPeak,
  rangeAtPeak,
} from "./batch-recipe";
import { CovChoice } from "./CovChoice";
import { datasetAvailability } from "./model-dataset";
import { SweaSettingsFields } from "./SweaSettingsFields";
import { defaultSweaSettings } from "./swea-recipe";
import type { EditFormProps } from "./types";

const COV_LABEL: Record<CovSource, string> = {
  identity: "identity",
  general_text: "corpus",
  "general_text+facts": "corpus + facts",
};

export function BatchForm({ onCancel }: EditFormProps) {
  const nLayer = useCauseway((st) => st.model.info?.config.nLayer ?? null);
  const source = useCauseway((st) => st.model.source);
  const trace = useCauseway((st) => st.trace.result);
  const batch = useCauseway((st) => st.batch);
  const run = useCauseway((st) => st.runBatch);
  const cancel = useCauseway((st) => st.cancelBatch);
  const loadMethods = useCauseway((st) => st.loadBatchMethods);
  const hasDataset = datasetAvailability(source) !== "no";
  const methods = batch.methods ?? [];
  const bases = [...new Set(methods.map((m) => m.split("+")[0]))];
  const [d, setD] = useState<BatchDraft>({
    source: hasDataset ? "model" : "paste",
    suite: "counterfact",
    start: batch.nextCase,
    count: 10,
    pasted: "",
    method: "memit",
    blue: false,
    layers: "",
    batch: 10,
    sequential: true,
    steps: null,
    cov: hasDataset ? "general_text+facts" : "identity",
    fluency: false,
    cacheStats: true,
    swea: defaultSweaSettings(),
  });
  const [imported, setImported] = useState<ImportedRewrites | null>(null);
  const [corpus, setCorpus] = useState<{ name: string; texts: string[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<BatchDraft>) => {
    setD((x) => ({ ...x, ...p }));
    setError(null); // a message about the draft before this change no longer applies
  };
  const ready = useCauseway((st) => st.model.status === "ready");
  // asked once a model is ready (the form may open while the first one loads)
  useEffect(() => {
    if (ready) loadMethods();
  }, [loadMethods, ready]);
  useEffect(() => setD((x) => ({ ...x, start: batch.nextCase })), [batch.nextCase]);
  // the first method the worker has when it lacks the one chosen (memit by default)
  const method = bases.length === 0 || bases.includes(d.method) ? d.method : bases[0];
  const peak = mlpPeak(trace);
  const auto = nLayer !== null && peak !== null ? rangeAtPeak(nLayer, peak, method).join(",") : "";
  const blueOk = methods.includes(`${method}+blue`);
  // SWEA alters the subject's token embeddings: no layers, no C, its own settings
  const swea = method === "swea";
  const running = batch.status === "running";

  return (
    <form
      className="editform"
      data-testid="batch-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = batchSpec(
          {
            ...d,
            method,
            blue: d.blue && blueOk,
            layers: d.layers.trim() === "" ? auto : d.layers,
          },
          { nLayer, hasDataset, imported, corpus, methods },
        );
        setError("error" in r ? r.error : null);
        if ("spec" in r) run(r.spec);
      }}
    >
      <h3 className="editform__title">Batch / sequential editing</h3>
      <BatchRewrites
        draft={d}
        set={set}
        hasDataset={hasDataset}
        imported={imported}
        setImported={setImported}
      />
      <div className={s.grid}>
        <label className="field">
          <span className="field__label">Method</span>
          <select
            className="field__input"
            value={method}
            onChange={(e) => set({ method: e.target.value })}
            data-testid="batch-method"
          >
            {bases.length === 0 ? <option value={method}>{method}</option> : null}
            {bases.map((m) => (
              <option key={m} value={m}>
                {BATCH_METHOD_TITLES[m as BatchMethod] ?? m}
              </option>
            ))}
          </select>
        </label>
        <label className={s.check} title={blueOk ? "" : `BLUE is not a switch of ${method}`}>
          <input
            type="checkbox"
            checked={d.blue && blueOk}
            disabled={!blueOk}
            onChange={(e) => set({ blue: e.target.checked })}
            data-testid="batch-blue"
          />
          BLUE (boundary layers only)
        </label>
        <label className="field">
          <span className="field__label">Layers</span>
          <input
            className="field__input"
            value={swea ? "" : d.layers}
            disabled={swea}
            title={swea ? "SWEA edits no layer: it alters the subject's token embeddings" : ""}
            placeholder={
              swea ? "none (embeddings)" : auto ? `${auto} (trace's MLP peak)` : "method default"
            }
            onChange={(e) => set({ layers: e.target.value })}
            spellCheck={false}
            data-testid="batch-layers"
          />
        </label>
        <NumberField
          id="batch-size"
          label="Batch size"
          value={d.batch}
          onChange={(v) => set({ batch: v })}
          param={EDIT_RUN_PARAMS.batch}
          testId="batch-size"
        />
        {swea ? null : (
          <NumberField
            id="batch-steps"
            label="Steps"
            value={d.steps}
            onChange={(v) => set({ steps: v })}
            param={EDIT_PARAMS.romeSteps}
            allowEmpty
            placeholder="auto"
            width={72}
            testId="batch-steps"
          />
        )}
        <label className={s.check}>
          <input
            type="checkbox"
            checked={d.sequential}
            onChange={(e) => set({ sequential: e.target.checked })}
            data-testid="batch-sequential"
          />
          sequential (each batch on the model the batches before edited)
        </label>
        <label className={s.check}>
          <input
            type="checkbox"
            checked={d.fluency}
            onChange={(e) => set({ fluency: e.target.checked })}
          />
          generation fluency (slow)
        </label>
      </div>
      {swea ? (
        <SweaSettingsFields
          prefix="batch-swea"
          value={d.swea ?? defaultSweaSettings()}
          onChange={(v) => set({ swea: v })}
        />
      ) : (
        <fieldset className="field">
          <legend className="field__label">C (second moment of keys)</legend>
          <CovChoice
            owner="batch"
            value={d.cov}
            onChange={(cov) => set({ cov })}
            labels={COV_LABEL}
          />
          {d.cov !== "identity" ? (
            <BatchCorpus corpus={corpus} setCorpus={setCorpus} hasDataset={hasDataset} />
          ) : null}
          <BatchStatsCache
            on={d.cacheStats}
            setOn={(v) => set({ cacheStats: v })}
            stats={batch.stats}
          />
        </fieldset>
      )}
      {error ? (
        <p className="form-error" role="alert" data-testid="batch-error">
          {error}
        </p>
      ) : null}
      <div className="editform__actions">
        <button type="button" className="btn btn--ghost" onClick={onCancel}>
          Close
        </button>
        {running ? (
          <button type="button" className="btn" onClick={cancel} data-testid="batch-cancel">
            Cancel run
          </button>
        ) : null}
        <button
          type="submit"
          className="btn btn--primary"
          disabled={methods.length === 0 || running}
          data-testid="batch-run"
        >
          {running ? "Running…" : "Run batch edit"}
        </button>
      </div>
      <BatchRun />
    </form>
  );
}
