/**
 * How Causeway starts Debian's Chromium, shared by the e2e config and the benchmark.
 * Headless Chromium without a GPU gets a WebGPU adapter (SwiftShader) only with these flags;
 * the last two keep it off this closed network.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-vulkan=swiftshader",
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
];
