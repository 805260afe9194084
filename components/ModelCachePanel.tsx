"use client";
/** What the browser keeps of downloaded models (Cache API), with sizes, and buttons to clear it. */
import { useCallback, useEffect, useState } from "react";
import {
  browserCaches,
  type CachedModel,
  clearCachedModel,
  clearModelCache,
  listCachedModels,
} from "@/lib/load/model-cache";
import { bytes } from "./format";
import { useCauseway } from "./StoreProvider";

export function ModelCachePanel() {
  const status = useCauseway((s) => s.model.status);
  const [models, setModels] = useState<CachedModel[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    const storage = browserCaches();
    if (!storage) {
      setError("This browser keeps no model cache here (the Cache API needs a secure context)");
      return;
    }
    try {
      setModels(await listCachedModels(storage));
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  // A finished load may have added files.
  useEffect(() => {
    if (status === "ready") void refresh();
  }, [status, refresh]);

  const clear = async (baseUrl?: string) => {
    const storage = browserCaches();
    if (!storage) return;
    if (baseUrl) await clearCachedModel(storage, baseUrl);
    else await clearModelCache(storage);
    await refresh();
  };

  const total = models?.reduce((a, m) => a + m.bytes, 0) ?? 0;
  return (
    <details
      className="picker__url"
      data-testid="model-cache"
      onToggle={(e) => {
        if ((e.target as HTMLDetailsElement).open) void refresh();
      }}
    >
      <summary>cached models{models ? ` (${bytes(total)})` : ""}</summary>
      {error ? <div className="load--error">{error}</div> : null}
      {models && models.length === 0 ? <div>Nothing cached.</div> : null}
      {models && models.length > 0 ? (
        <ul style={{ margin: "6px 0", paddingLeft: 16 }} data-testid="model-cache-list">
          {models.map((m) => (
            <li key={m.baseUrl} title={m.baseUrl} data-testid="model-cache-item">
              {m.label} · {m.files.length} files · {bytes(m.bytes)}{" "}
              <button type="button" onClick={() => void clear(m.baseUrl)}>
                remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {models && models.length > 0 ? (
        <button type="button" onClick={() => void clear()} data-testid="model-cache-clear">
          Clear all
        </button>
      ) : null}
    </details>
  );
}
