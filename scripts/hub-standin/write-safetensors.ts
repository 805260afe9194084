/** safetensors writing for the stand-ins: F32 or BF16 data, sharded with an index. */
import { writeFileSync } from "node:fs";
import path from "node:path";

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** float32 → bfloat16 bits, rounded to nearest even (what torch's .to(bfloat16) does). */
export function toBf16(data: Float32Array): Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** safetensors: u64 header length, JSON header, then little-endian F32 (or BF16) data. */
export function safetensorsBytes(
  tensors: [string, Tensor][],
  dtype: "F32" | "BF16" = "F32",
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const datas = tensors.map(([, x]) => (dtype === "BF16" ? toBf16(x.data) : x.data));
  let offset = 0;
  for (const [i, [name, x]] of tensors.entries()) {
    header[name] = {
      dtype,
      shape: x.shape,
      data_offsets: [offset, offset + datas[i].byteLength],
    };
    offset += datas[i].byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let p = 8 + head.byteLength;
  for (const d of datas) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), p);
    p += d.byteLength;
  }
  return out;
}

/** Writes the shards and the model.safetensors.index.json that maps each tensor to its shard. */
export function writeShards(
  dir: string,
  shards: [string, [string, Tensor][]][],
  dtype: "F32" | "BF16" = "F32",
): void {
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [file, tensors] of shards) {
    writeFileSync(path.join(dir, file), safetensorsBytes(tensors, dtype));
    for (const [name, x] of tensors) {
      weightMap[name] = file;
      totalSize += x.data.length * (dtype === "BF16" ? 2 : 4);
    }
  }
  writeFileSync(
    path.join(dir, "model.safetensors.index.json"),
    `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`,
  );
}
