/**
 * What GPU the browser's WebGPU and WebGL would run on, found without starting a tfjs backend:
 * the adapter's name and whether it is a software one (an emulated GPU on the CPU: WebGPU's
 * fallback adapter, SwiftShader, llvmpipe, …), so the backend choice can skip it unmeasured.
 */
import type { BackendName } from "../protocol";

export interface GpuInfo {
  /** "vendor architecture description" (WebGPU) or the unmasked renderer (WebGL). */
  name: string;
  software: boolean;
  /** Set when the API is missing or gives no adapter/context. */
  unavailable?: string;
}

const SOFTWARE = /swiftshader|llvmpipe|softpipe|lavapipe|software|basic render|microsoft warp/i;

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<AdapterInfoLike>;
}

export async function probeWebGpu(): Promise<GpuInfo> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<AdapterLike | null> } })
    ?.gpu;
  if (!gpu) return { name: "", software: false, unavailable: "no WebGPU" };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { name: "", software: false, unavailable: "no WebGPU adapter" };
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
    const name = [info.vendor, info.architecture, info.description]
      .filter((s): s is string => typeof s === "string" && s.length > 0)
      .join(" ");
    const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
    return { name: name || "unknown adapter", software: fallback || SOFTWARE.test(name) };
  } catch (e) {
    return { name: "", software: false, unavailable: `WebGPU failed: ${String(e)}` };
  }
}

export function probeWebGl(): GpuInfo {
  const G = globalThis as { OffscreenCanvas?: new (w: number, h: number) => OffscreenCanvas };
  if (!G.OffscreenCanvas) return { name: "", software: false, unavailable: "no OffscreenCanvas" };
  try {
    const gl = new G.OffscreenCanvas(1, 1).getContext("webgl2") as WebGL2RenderingContext | null;
    if (!gl) return { name: "", software: false, unavailable: "no WebGL2 context" };
    const ext = gl.getExtension("WEBGL_debug_renderer_info");
    const name = String(
      gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? "unknown renderer",
    );
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return { name, software: SOFTWARE.test(name) };
  } catch (e) {
    return { name: "", software: false, unavailable: `WebGL failed: ${String(e)}` };
  }
}

/** Probes the GPU backends in `order` (others are left undefined). */
export async function probeGpu(
  order: readonly BackendName[],
): Promise<{ webgpu?: GpuInfo; webgl?: GpuInfo }> {
  return {
    webgpu: order.includes("webgpu") ? await probeWebGpu() : undefined,
    webgl: order.includes("webgl") ? probeWebGl() : undefined,
  };
}
