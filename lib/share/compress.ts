/**
 * zlib deflate with the platform's CompressionStream (Node ≥ 18, Chromium, Firefox, Safari ≥
 * 16.4): no dependency. "deflate" rather than "deflate-raw" for its Adler-32 checksum (6 bytes),
 * so a truncated or altered link fails to unpack instead of decoding into something else.
 * Inflating stops as soon as the output passes `maxBytes` (a small link cannot expand into a
 * huge payload).
 */
import { ShareError } from "./errors";

async function readAll(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ShareError("too_long", `The link unpacks to more than ${maxBytes} bytes.`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function through(bytes: Uint8Array, t: CompressionStream | DecompressionStream) {
  const writer = t.writable.getWriter();
  // errors surface on the readable side; the write side's promise is only observed here
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  return t.readable as ReadableStream<Uint8Array>;
}

export function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  return readAll(through(bytes, new CompressionStream("deflate")), Number.POSITIVE_INFINITY);
}

export async function inflate(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  try {
    return await readAll(through(bytes, new DecompressionStream("deflate")), maxBytes);
  } catch (e) {
    if (e instanceof ShareError) throw e;
    throw new ShareError(
      "corrupt",
      "The link is damaged (cut short or altered): its contents do not unpack.",
    );
  }
}
