/**
 * The worker's side of model sources: a ModelSource message → a FileSource (bundled folder, URL,
 * hub repo through the browser cache, or dropped File objects), and what the device can give
 * (for the memory check before the weights download).
 */
import { fileSource } from "../lib/load/file-source";
import { hubSource } from "../lib/load/hub-source";
import type { DeviceLimits } from "../lib/load/memory-estimate";
import { browserCaches } from "../lib/load/model-cache";
import { foreignSource, modelDisplayName } from "../lib/load/source-trust";
import type { FileSource } from "../lib/load/types";
import { urlSource } from "../lib/load/url-source";
import type { BackendName, ModelSource } from "../lib/protocol";

export interface ResolvedSource {
  name: string;
  source: FileSource;
  /** The folder URL (for dataset.json); null for sources that have none (hub, files). */
  baseUrl: string | null;
}

export function resolveSource(
  source: ModelSource,
  origin: string,
  signal: AbortSignal,
): ResolvedSource {
  // Refuses unknown bundled names and addresses with credentials; the shown name is derived from
  // the source, never taken from it (lib/load/source-trust.ts). Confirming a foreign origin is
  // the opener's job (lib/share/model-gate.ts): an explicit load from the picker is the user's.
  foreignSource(source, origin);
  const name = modelDisplayName(source, origin);
  switch (source.kind) {
    case "bundled": {
      const baseUrl = new URL(`/models/${source.name}/`, origin).href;
      return { name: source.name, baseUrl, source: urlSource(baseUrl, { signal }) };
    }
    case "url": {
      const baseUrl = new URL(source.baseUrl, origin).href;
      return { name, baseUrl, source: urlSource(baseUrl, { signal }) };
    }
    case "hub": {
      const { repo, revision, endpoint } = source;
      const hub = hubSource({ repo, revision }, { endpoint, signal, cache: browserCaches() });
      return { name, baseUrl: null, source: hub };
    }
    case "files": {
      if (!source.files || source.files.length === 0) {
        throw new Error("No files were chosen (pick config.json, tokenizer.json and the weights)");
      }
      return { name: source.name, baseUrl: null, source: fileSource(source.files) };
    }
  }
}

interface GpuLimitsLike {
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
}
interface GpuLike {
  requestAdapter(): Promise<{ limits?: GpuLimitsLike } | null>;
}

/**
 * The memory the first backend of `order` could use, as far as the browser tells. The adapter's
 * limits are what counts: tfjs-backend-webgpu requests the adapter's maxBufferSize and
 * maxStorageBufferBindingSize for its device.
 */
export async function deviceLimits(order: readonly BackendName[]): Promise<DeviceLimits> {
  const nav = globalThis.navigator as
    | { deviceMemory?: number; gpu?: GpuLike; hardwareConcurrency?: number }
    | undefined;
  const deviceMemoryGiB = typeof nav?.deviceMemory === "number" ? nav.deviceMemory : undefined;
  for (const backend of order) {
    if (backend !== "webgpu") return { backend, deviceMemoryGiB };
    const adapter = await nav?.gpu?.requestAdapter().catch(() => null);
    if (adapter) {
      return {
        backend,
        deviceMemoryGiB,
        maxBufferSize: adapter.limits?.maxBufferSize,
        maxStorageBufferBindingSize: adapter.limits?.maxStorageBufferBindingSize,
      };
    }
  }
  return { backend: "cpu", deviceMemoryGiB };
}
