"use client";
/** Which tfjs backend the worker runs on (WebGPU / WebGL / WASM / CPU) and the GPU adapter. */
import type { BackendName } from "@/lib/protocol";
import { useCauseway } from "./StoreProvider";

const LABEL: Record<BackendName, string> = {
  webgpu: "WebGPU",
  webgl: "WebGL",
  wasm: "WASM",
  cpu: "CPU",
};

export function BackendBadge() {
  const backend = useCauseway((s) => s.model.backend);
  const adapter = useCauseway((s) => s.model.adapter);
  const status = useCauseway((s) => s.model.status);
  if (!backend) {
    return (
      <span className="badge badge--none" data-testid="backend-badge" data-backend="">
        <span className="badge__dot" />
        {status === "loading" ? "choosing backend…" : "no backend"}
      </span>
    );
  }
  return (
    <span
      className={`badge badge--${backend}`}
      data-testid="backend-badge"
      data-backend={backend}
      title={adapter ? `${LABEL[backend]} on ${adapter}` : LABEL[backend]}
    >
      <span className="badge__dot" />
      <span className="badge__name">{LABEL[backend]}</span>
      {adapter ? (
        <span className="badge__adapter" data-testid="backend-adapter">
          {adapter}
        </span>
      ) : null}
    </span>
  );
}
