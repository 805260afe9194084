/**
 * Picks the first tfjs backend that starts, in the caller's order (the worker asks for
 * webgpu > webgl > wasm > cpu, Node for wasm > cpu). Backends are registered by side-effect
 * imports kept apart: lib/model/backends-browser.ts and lib/model/backends-node.ts.
 *
 * tf.setBackend() throws for a name that was never registered and resolves `false` (instead of
 * throwing) when a registered backend fails to initialise, so success is checked with
 * tf.getBackend() afterwards.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../protocol";

export interface SelectedBackend {
  backend: BackendName;
  /** WebGPU only: the adapter's vendor, architecture and description, e.g. "google swiftshader". */
  adapter?: string;
}

export async function selectBackend(order: readonly BackendName[]): Promise<SelectedBackend> {
  const failures: string[] = [];
  for (const name of order) {
    let ok = false;
    try {
      ok = await tf.setBackend(name);
    } catch (e) {
      failures.push(`${name} (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    if (!ok || tf.getBackend() !== name) {
      failures.push(`${name} (failed to initialise)`);
      continue;
    }
    await tf.ready();
    return name === "webgpu"
      ? { backend: name, adapter: await webgpuAdapter() }
      : { backend: name };
  }
  throw new Error(
    `no tfjs backend could start: tried ${failures.join(", ") || "nothing (empty backend list)"}`,
  );
}

/** The subset of the WebGPU API read here (lib.dom does not declare navigator.gpu). */
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  requestAdapterInfo?: () => Promise<GpuAdapterInfoLike>;
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}

/** "vendor architecture description" of the adapter WebGPU would use, or undefined. */
export async function webgpuAdapter(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return undefined;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return undefined;
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.());
    const text = [info?.vendor, info?.architecture, info?.description]
      .filter((s): s is string => typeof s === "string" && s.length > 0)
      .join(" ");
    return text || undefined;
  } catch {
    return undefined;
  }
}
