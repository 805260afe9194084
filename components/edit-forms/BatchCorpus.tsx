"use client";
/**
 * C's corpus for a batch run: the model's own general text (when it has a dataset.json), or a
 * corpus the user brings (plain text, one text per paragraph, or a prompt set as JSON / JSONL /
 * CSV), parsed by lib/load/dataset-import.ts importCorpus.
 */
import { importCorpus } from "@/lib/load/dataset-import";
import { DatasetImport } from "../DatasetImport";

export function BatchCorpus({
  corpus,
  setCorpus,
  hasDataset,
}: {
  corpus: { name: string; texts: string[] } | null;
  setCorpus: (c: { name: string; texts: string[] } | null) => void;
  hasDataset: boolean;
}) {
  return (
    <DatasetImport
      id="batch-corpus"
      label={
        hasDataset
          ? "Corpus (default: the model's general text)"
          : "Corpus (this model has none: bring one)"
      }
      accept=".txt,.json,.jsonl,.csv,text/plain"
      parse={importCorpus}
      loaded={corpus ? `${corpus.name}: ${corpus.texts.length} texts` : null}
      onLoaded={(name, texts) => setCorpus(texts ? { name, texts } : null)}
    />
  );
}
