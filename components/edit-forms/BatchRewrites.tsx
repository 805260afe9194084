"use client";
/**
 * Where the Batch form's rewrites come from: the next N cases of the model's dataset, pasted
 * JSON / JSONL in ROME's fields, or a CounterFact / zsRE file (picker, drop or URL).
 */
import { importDatasetJson } from "@/lib/load/dataset-import";
import { DatasetImport } from "../DatasetImport";
import { NumberField } from "../NumberField";
import s from "./Batch.module.css";
import type { BatchDraft, ImportedRewrites, RewriteSource } from "./batch-recipe";
import { TextField } from "./TextField";

const SOURCES: { id: RewriteSource; label: string }[] = [
  { id: "model", label: "the model's dataset" },
  { id: "paste", label: "paste" },
  { id: "file", label: "a file" },
];

const EXAMPLE = `{"prompt": "{} lives in the city of", "subject": "…", "target_new": "…", "target_true": "…"}`;

/** A CounterFact or zsRE file's cases; anything else is refused by name. */
export function parseRewriteFile(name: string, text: string): ImportedRewrites {
  const { format, data } = importDatasetJson(name, text);
  if (data.counterfact?.length)
    return { name, suite: "counterfact", counterfact: data.counterfact };
  if (data.zsre?.length) return { name, suite: "zsre", zsre: data.zsre };
  throw new Error(
    `${name}: ${format === "known" ? "known facts (known_1000) trace facts but carry no rewrites" : "has no CounterFact or zsRE cases"}: give a CounterFact or zsRE file`,
  );
}

export function BatchRewrites({
  draft: d,
  set,
  hasDataset,
  imported,
  setImported,
}: {
  draft: BatchDraft;
  set: (p: Partial<BatchDraft>) => void;
  hasDataset: boolean;
  imported: ImportedRewrites | null;
  setImported: (x: ImportedRewrites | null) => void;
}) {
  return (
    <fieldset className="field">
      <legend className="field__label">Rewrites</legend>
      <div className="seg">
        {SOURCES.map((x) => (
          <label key={x.id} className={`seg__btn${d.source === x.id ? " seg__btn--on" : ""}`}>
            <input
              type="radio"
              name="batch-source"
              checked={d.source === x.id}
              disabled={x.id === "model" && !hasDataset}
              onChange={() => set({ source: x.id })}
              data-testid={`batch-source-${x.id}`}
            />
            {x.label}
          </label>
        ))}
      </div>
      {d.source === "model" ? (
        <div className={s.grid}>
          <label className="field">
            <span className="field__label">Suite</span>
            <select
              className="field__input"
              value={d.suite}
              onChange={(e) => set({ suite: e.target.value as BatchDraft["suite"] })}
              data-testid="batch-suite"
            >
              <option value="counterfact">CounterFact</option>
              <option value="zsre">zsRE</option>
            </select>
          </label>
          <NumberField
            id="batch-count"
            label="Next N cases"
            value={d.count}
            onChange={(v) => set({ count: v })}
            min={1}
            testId="batch-count"
          />
          <NumberField
            id="batch-start"
            label="from case"
            value={d.start}
            onChange={(v) => set({ start: v })}
            min={0}
            testId="batch-start"
          />
        </div>
      ) : null}
      {d.source === "paste" ? (
        <TextField
          rows={5}
          className={s.paste}
          value={d.pasted}
          placeholder={`One rewrite a line (JSONL) or a JSON list, in ROME's fields:\n${EXAMPLE}`}
          onChange={(pasted) => set({ pasted })}
          testId="batch-paste"
        />
      ) : null}
      {d.source === "file" ? (
        <DatasetImport
          id="batch-rewrites"
          label="CounterFact or zsRE JSON"
          accept=".json,application/json"
          parse={parseRewriteFile}
          loaded={
            imported
              ? `${imported.name}: ${imported.suite === "counterfact" ? imported.counterfact.length : imported.zsre.length} ${imported.suite === "counterfact" ? "CounterFact" : "zsRE"} cases`
              : null
          }
          onLoaded={(_name, x) => setImported(x)}
        />
      ) : null}
    </fieldset>
  );
}
