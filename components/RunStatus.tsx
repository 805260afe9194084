"use client";
/** A quiet footer line: where the numbers come from, and whether tensors leak. */
import { useCauseway } from "./StoreProvider";

export function RunStatus() {
  const info = useCauseway((s) => s.model.info);
  const backend = useCauseway((s) => s.model.backend);
  const tensorsLeft = useCauseway((s) => s.predict.tensorsLeft);
  return (
    <footer className="status" data-testid="run-status">
      <span>
        {info ? `${info.name} on ${backend ?? "?"}` : "no model"}
        {tensorsLeft !== null && tensorsLeft >= 0 ? ` · ${tensorsLeft} tensors resident` : ""}
      </span>
      <span>
        Same numbers from the command line:{" "}
        <code>npx causeway predict --model {info?.name ?? "tiny-facts"} --prompt "…" --json</code>
      </span>
    </footer>
  );
}
