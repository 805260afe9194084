"use client";
/**
 * Loads a model from local files: a folder picker, a plain multi-file picker, or drag and drop of
 * config.json + tokenizer.json + *.safetensors (+ model.safetensors.index.json). The File objects
 * go to the worker with the load request; nothing is uploaded anywhere.
 */
import { type DragEvent, useState } from "react";
import { droppedFiles } from "./model-file-drop";
import { useCauseway } from "./StoreProvider";

function nameOf(files: File[], folder?: string): string {
  const rel = files.find((f) => f.webkitRelativePath)?.webkitRelativePath;
  return folder ?? rel?.split("/")[0] ?? "local files";
}

export function ModelSourceFiles() {
  const loadModel = useCauseway((s) => s.loadModel);
  const [over, setOver] = useState(false);

  const load = (files: File[], folder?: string) => {
    if (files.length > 0) loadModel({ kind: "files", name: nameOf(files, folder), files });
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const { files, folder } = await droppedFiles(e.dataTransfer);
    load(files, folder);
  };

  return (
    <details className="picker__url" data-testid="files-source">
      <summary>from files…</summary>
      <fieldset
        aria-label="Drop zone for a model folder"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="files-drop"
        style={{
          margin: "6px 0 0",
          padding: 8,
          border: `1px dashed ${over ? "var(--accent)" : "var(--line-2)"}`,
          borderRadius: 6,
        }}
      >
        Drop a model folder here (config.json, tokenizer.json, *.safetensors), or pick
        <label style={{ display: "block", marginTop: 4 }}>
          a folder{" "}
          <input
            type="file"
            // webkitdirectory is not in React's input props; the attribute is what browsers read.
            {...{ webkitdirectory: "", directory: "" }}
            multiple
            onChange={(e) => load([...(e.target.files ?? [])])}
            data-testid="files-folder"
          />
        </label>
        <label style={{ display: "block", marginTop: 4 }}>
          or files{" "}
          <input
            type="file"
            multiple
            accept=".json,.safetensors"
            onChange={(e) => load([...(e.target.files ?? [])])}
            data-testid="files-pick"
          />
        </label>
      </fieldset>
    </details>
  );
}
