"use client";
/** A quiet footer line: where the numbers come from, and whether tensors leak. */
import type { CausewayState } from "@/lib/store/types";
import { isWorkerStopped } from "@/lib/store/worker-restart";
import { useCauseway } from "./StoreProvider";

export function RunStatus() {
  const status = useCauseway((s) => s.model.status);
  const error = useCauseway((s) => s.model.error);
  const info = useCauseway((s) => s.model.info);
  const backend = useCauseway((s) => s.model.backend);
  const tensorsLeft = useCauseway((s) => s.predict.tensorsLeft);
  return (
    <footer className="status" data-testid="run-status">
      <span data-testid="footer-model">
        {runStatusText({ model: { status, error, info, backend }, tensorsLeft })}
      </span>
      <span>
        Same numbers from the command line:{" "}
        <code>npx causeway predict --model {info?.name ?? "tiny-facts"} --prompt "…" --json</code>
      </span>
    </footer>
  );
}

/**
 * The footer's model line: the model, its backend and the tensors left alive. Once the model
 * worker stopped (lib/store/worker-restart.ts isWorkerStopped) its backend and tensors died with
 * it, so the line says so and claims neither; while a (restarted) worker loads the model, which
 * keeps its info, the line says it loads rather than the dead worker's backend and tensors.
 */
export function runStatusText({
  model,
  tensorsLeft,
}: {
  model: Pick<CausewayState["model"], "status" | "error" | "info" | "backend">;
  tensorsLeft: number | null;
}): string {
  const name = model.info?.name;
  if (isWorkerStopped(model)) return `${name ?? "no model"} · worker stopped`;
  if (model.status === "loading") return name ? `${name} · loading` : "loading a model";
  if (!name) return "no model";
  const tensors =
    tensorsLeft !== null && tensorsLeft >= 0 ? ` · ${tensorsLeft} tensors resident` : "";
  return `${name} on ${model.backend ?? "?"}${tensors}`;
}
