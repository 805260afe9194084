"use client";
/**
 * The model worker stopped (lib/worker-client.ts: its own crash, or a wasm thread that failed and
 * left it blocked): why, and a button that starts a fresh worker, reloads the same model and
 * re-applies the edit stack as learned (lib/store/worker-restart.ts). Results on screen stay.
 */
import { restartBackends } from "@/lib/store/worker-restart";
import { useCauseway } from "./StoreProvider";
import styles from "./WorkerStopped.module.css";

export function WorkerStopped({ message }: { message: string }) {
  const restart = useCauseway((s) => s.restartWorker);
  const name = useCauseway((s) => s.model.info?.name ?? null);
  const edits = useCauseway((s) => s.edits.stack.length);
  const backend = restartBackends()[0];
  const on = backend === "wasm" ? "WASM without threads" : backend.toUpperCase();
  return (
    <div
      className={`load ${styles.stopped}`}
      data-testid="load-status"
      data-status="error"
      role="alert"
    >
      <span className={styles.why} data-testid="worker-stopped">
        {message}
      </span>
      <button className="btn" type="button" onClick={restart} data-testid="worker-restart">
        Restart the model worker
      </button>
      <span className={styles.note}>
        {`A fresh worker loads ${name ?? "the model"} again on ${on}${
          edits > 0 ? ` and re-applies the ${edits} edit${edits === 1 ? "" : "s"} as learned` : ""
        }; the results on screen stay.`}
      </span>
    </div>
  );
}
