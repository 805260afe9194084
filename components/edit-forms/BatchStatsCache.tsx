"use client";
/**
 * C kept in this browser (lib/edit/cov-cache-idb.ts, IndexedDB): the switch, what is stored and
 * a control that clears it. The last run's layers say where their C came from.
 */
import { useCallback, useEffect, useState } from "react";
import { clearStoredStats, storedStats } from "@/lib/edit/cov-cache-idb";
import { errorText } from "@/lib/errors";
import s from "./Batch.module.css";

const SOURCE_TEXT = { storage: "from this browser", computed: "computed", memory: "in memory" };

export function BatchStatsCache({
  on,
  setOn,
  stats,
}: {
  on: boolean;
  setOn: (v: boolean) => void;
  stats: ("storage" | "computed" | "memory")[];
}) {
  const [held, setHeld] = useState<{ entries: number; bytes: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(() => {
    storedStats().then(setHeld, (e) => setError(errorText(e)));
  }, []);
  // the run stores new C: count again when its layers report
  const runs = stats.length;
  useEffect(() => {
    if (runs >= 0) refresh();
  }, [refresh, runs]);
  return (
    <div className={s.cache} data-testid="batch-cache">
      <label className={s.check}>
        <input type="checkbox" checked={on} onChange={(e) => setOn(e.target.checked)} />
        keep C in this browser (per model, layer and corpus)
      </label>
      <span className="field__help" data-testid="batch-cache-held">
        {held === null
          ? "browser storage unavailable"
          : `${held.entries} stored (${(held.bytes / 1024 ** 2).toFixed(1)} MiB)`}
        {stats.length > 0 ? ` · last run: ${stats.map((x) => SOURCE_TEXT[x]).join(", ")}` : ""}
      </span>
      <button
        type="button"
        className="btn btn--ghost btn--small"
        disabled={!held?.entries}
        onClick={() => clearStoredStats().then(refresh, (e) => setError(errorText(e)))}
        data-testid="batch-cache-clear"
      >
        Clear cached statistics
      </button>
      {error ? <p className="form-error">{error}</p> : null}
    </div>
  );
}
