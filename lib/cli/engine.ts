/** Loads a model for a CLI command on the wasm backend (cpu as fallback), the browser's numbers. */
import "../model/backends-node";
import { Engine } from "../engine";
import { selectBackend } from "../model/backend";
import type { BackendName } from "../protocol";
import { UsageError } from "./args";
import { hubFetchNotice, refuseNearMiss } from "./bundled-name";
import { bundledModelNames, resolveModelSource } from "./model-source";

const NODE_BACKENDS: BackendName[] = ["wasm", "cpu"];

export async function loadCliEngine(
  modelSpec: string,
  backendFlag?: string,
): Promise<{ engine: Engine; backend: BackendName }> {
  let order = NODE_BACKENDS;
  if (backendFlag !== undefined) {
    if (!NODE_BACKENDS.includes(backendFlag as BackendName)) {
      throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(", ")} in Node`);
    }
    order = [backendFlag as BackendName];
  }
  const { backend } = await selectBackend(order);
  refuseNearMiss(modelSpec, bundledModelNames());
  const { name, source } = resolveModelSource(modelSpec);
  const notice = hubFetchNotice(modelSpec, source.label);
  if (notice) process.stderr.write(`${notice}\n`);
  const engine = await Engine.load(source, name);
  return { engine, backend };
}
