/**
 * Read caps and fetch failure messages, source by source (issue 10.2, 10.16): a file over the
 * read's maxBytes is refused before it is read where its size is known, and a fetch failure
 * names its cause (Node keeps it in `cause`; browsers hide it, so the message says what it can be).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import { fetchFailure } from "../lib/load/fetch-errors";
import { fileSource } from "../lib/load/file-source";
import { memorySource } from "../lib/load/memory-source";
import { directorySource } from "../lib/load/node-source";
import { fetchCapped, urlSource } from "../lib/load/url-source";

const dir = mkdtempSync(path.join(tmpdir(), "read-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refused(p: Promise<unknown>): Promise<LoadError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LoadError);
  expect((e as LoadError).code).toBe("too_large");
  return e as LoadError;
}

describe("every source refuses a file over maxBytes", () => {
  it("directorySource, by its size on disk", async () => {
    writeFileSync(path.join(dir, "config.json"), "x".repeat(2000));
    const src = directorySource(dir);
    const e = await refused(src.read("config.json", undefined, { maxBytes: 1000 }));
    expect(e.message).toBe(
      "config.json: 2,000 bytes (file size) is more than the 1,000 bytes this file can need; refused",
    );
    expect((await src.read("config.json", undefined, { maxBytes: 2000 })).byteLength).toBe(2000);
  });

  it("fileSource, by File.size, without reading the file", async () => {
    let reads = 0;
    const big = {
      name: "model.safetensors",
      size: 5e9,
      arrayBuffer: async () => {
        reads++;
        return new ArrayBuffer(0);
      },
    };
    await refused(fileSource([big]).read("model.safetensors", undefined, { maxBytes: 1e6 }));
    expect(reads).toBe(0);
  });

  it("memorySource", async () => {
    await refused(memorySource({ a: "12345" }).read("a", undefined, { maxBytes: 4 }));
  });

  it("urlSource, by the bytes of a body without Content-Length", async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(1000)); // endless
      },
    });
    const src = urlSource("http://h.example/m", {
      fetch: async () => new Response(body, { status: 200 }),
    });
    const e = await refused(src.read("model.safetensors", undefined, { maxBytes: 10_000 }));
    expect(e.message).toContain("11,000 bytes (received) is more than the 10,000 bytes");
  });
});

describe("fetchFailure says why", () => {
  it("Node's cause chain: code and message", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
      code: "ECONNREFUSED",
    });
    expect(fetchFailure(new TypeError("fetch failed", { cause }))).toBe(
      "fetch failed (connect ECONNREFUSED 127.0.0.1:9)",
    );
    const coded = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(fetchFailure(new TypeError("fetch failed", { cause: coded }))).toBe(
      "fetch failed (ECONNRESET: socket hang up)",
    );
  });

  it("the browser's bare 'Failed to fetch' lists what it can be", () => {
    expect(fetchFailure(new TypeError("Failed to fetch"))).toMatch(
      /^Failed to fetch \(the browser does not say why: .*redirect in a loop.*\(CORS\)\)$/,
    );
  });

  it("a cyclic cause chain ends", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(fetchFailure(a)).toBe("a (b)");
  });
});

describe("the stall limit", () => {
  it("a server that never answers is given up after $CAUSEWAY_STALL_SECONDS", async () => {
    const before = process.env.CAUSEWAY_STALL_SECONDS;
    process.env.CAUSEWAY_STALL_SECONDS = "0.05";
    try {
      // a fetch that only ends when its signal aborts: a server that accepted and went silent
      const silent: typeof fetch = (_url, init) =>
        new Promise((_, reject) =>
          init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      const e = await urlSource("http://h.example/m", { fetch: silent })
        .read("config.json")
        .then(
          () => null,
          (err: unknown) => err as LoadError,
        );
      expect(e?.code).toBe("stalled");
      expect(e?.message).toBe(
        "config.json: no data from http://h.example/m/config.json for 0.05 s: the server stalled, so the download was stopped",
      );
    } finally {
      if (before === undefined) delete process.env.CAUSEWAY_STALL_SECONDS;
      else process.env.CAUSEWAY_STALL_SECONDS = before;
    }
  });
});

describe("fetchCapped: side files (dataset.json) are bounded too", () => {
  const endless = () =>
    new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(4096));
      },
    });

  it("an endless dataset.json stops at maxBytes", async () => {
    const e = await fetchCapped("http://h.example/m/dataset.json", {
      maxBytes: 100_000,
      fetch: async () => new Response(endless(), { status: 200 }),
    }).then(
      () => null,
      (err: unknown) => err as LoadError,
    );
    expect(e?.code).toBe("too_large");
    expect(e?.message).toMatch(
      /^dataset\.json: [\d,]+ bytes \(received\) is more than the 100,000/,
    );
  });

  it("a small one comes back as a Response; a missing one as a 404", async () => {
    const ok = await fetchCapped("http://h.example/m/dataset.json", {
      maxBytes: 100,
      fetch: async () => new Response('{"a": 1}', { status: 200 }),
    });
    expect(await ok.json()).toEqual({ a: 1 });
    const missing = await fetchCapped("http://h.example/m/dataset.json", {
      maxBytes: 100,
      fetch: async () => new Response("no", { status: 404 }),
    });
    expect(missing.status).toBe(404);
  });
});
