/**
 * Which model an exported result is of, so a file says it: the display name, the source
 * ("bundled:tiny-facts", "hub:org/name@rev", "url:…", "files:…"; lib/load/source-trust.ts) and
 * the parameter count. The app holds no weights checksum; a hub revision names the checkpoint.
 */
import { modelDisplayName } from "../load/source-trust";
import type { ModelInfo, ModelSource } from "../protocol";

export interface ModelAbout {
  name: string;
  source: string;
  n_params: number;
}

export function modelAbout(info: ModelInfo, source: ModelSource | null): ModelAbout {
  const src = source ? `${source.kind}:${modelDisplayName(source)}` : info.name;
  return { name: info.name, source: src, n_params: info.nParams };
}
