/** Loads a model for a CLI command on the wasm backend (cpu as fallback), the browser's numbers. */
import "../model/backends-node";
import { Engine } from "../engine";
import { selectBackend } from "../model/backend";
import type { BackendName } from "../protocol";
import { UsageError } from "./args";
import { hubFetchNotice, refuseNearMiss } from "./bundled-name";
import { bundledModelNames, resolveModelSource } from "./model-source";

const NODE_BACKENDS: BackendName[] = ["wasm", "cpu"];

/** The backends to try for --backend (absent: wasm, then cpu). */
export function backendOrder(backendFlag?: string): BackendName[] {
  if (backendFlag === undefined) return NODE_BACKENDS;
  if (!NODE_BACKENDS.includes(backendFlag as BackendName)) {
    throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(", ")} in Node`);
  }
  return [backendFlag as BackendName];
}

export async function loadCliEngine(
  modelSpec: string,
  backendFlag?: string,
): Promise<{ engine: Engine; backend: BackendName }> {
  const { backend } = await selectBackend(backendOrder(backendFlag));
  refuseNearMiss(modelSpec, bundledModelNames());
  const { name, source } = resolveModelSource(modelSpec);
  const notice = hubFetchNotice(modelSpec, source.label);
  if (notice) process.stderr.write(`${notice}\n`);
  const engine = await Engine.load(source, name);
  return { engine, backend };
}
