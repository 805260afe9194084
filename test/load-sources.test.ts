import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import { memorySource } from "../lib/load/memory-source";
import { directorySource } from "../lib/load/node-source";
import type { FileSource } from "../lib/load/types";
import { urlSource } from "../lib/load/url-source";

async function rejection(p: Promise<unknown>): Promise<LoadError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error("expected a LoadError");
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The FileSource contract, for any source holding a.txt = "alpha" and sub/b.bin = [1,2,3]. */
async function checkContract(src: FileSource) {
  expect(await src.has("a.txt")).toBe(true);
  expect(await src.has("nope.txt")).toBe(false);
  const a = await src.read("a.txt");
  expect(a).toBeInstanceOf(Uint8Array);
  expect(text(a)).toBe("alpha");
  expect(Array.from(await src.read("sub/b.bin"))).toEqual([1, 2, 3]);
  const e = await rejection(src.read("nope.txt"));
  expect(e.code).toBe("file_missing");
  expect(e.file).toBe("nope.txt");
}

describe("memorySource", () => {
  it("keeps the FileSource contract", async () => {
    await checkContract(memorySource({ "a.txt": "alpha", "sub/b.bin": new Uint8Array([1, 2, 3]) }));
    const m = new Map<string, Uint8Array | string>([["a.txt", "alpha"]]);
    expect(text(await memorySource(m).read("a.txt"))).toBe("alpha");
  });
});

describe("directorySource", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "causeway-src-"));
    mkdirSync(path.join(dir, "sub"));
    writeFileSync(path.join(dir, "a.txt"), "alpha");
    writeFileSync(path.join(dir, "sub", "b.bin"), new Uint8Array([1, 2, 3]));
    writeFileSync(path.join(path.dirname(dir), "causeway-outside.txt"), "secret");
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(path.dirname(dir), "causeway-outside.txt"), { force: true });
  });

  it("keeps the FileSource contract, labelled with the directory", async () => {
    const src = directorySource(dir);
    await checkContract(src);
    expect(src.label).toBe(path.resolve(dir));
  });

  it("returns plain Uint8Arrays, not Buffers", async () => {
    const bytes = await directorySource(dir).read("a.txt");
    expect(Buffer.isBuffer(bytes)).toBe(false);
  });

  it("a directory is not a file", async () => {
    const src = directorySource(dir);
    expect(await src.has("sub")).toBe(false);
    expect((await rejection(src.read("sub"))).code).toBe("file_missing");
  });

  it("refuses names that escape the directory", async () => {
    const src = directorySource(dir);
    expect(await src.has("../causeway-outside.txt")).toBe(false);
    expect((await rejection(src.read("../causeway-outside.txt"))).code).toBe("file_missing");
  });
});

describe("urlSource over a real HTTP server", () => {
  let server: Server;
  let base: string;
  const log: string[] = [];
  const big = new Uint8Array(300_000).map((_, i) => i % 251);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? "";
      log.push(`${req.method} ${url}`);
      const send = (status: number, body: Uint8Array | string, headers = {}) => {
        res.writeHead(status, headers);
        res.end(req.method === "HEAD" ? undefined : body);
      };
      if (url.startsWith("/nohead/") && req.method === "HEAD") return send(405, "");
      const name = url.replace(/^\/(nohead\/)?m\//, "");
      if (name === "a.txt") return send(200, "alpha", { "content-length": 5 });
      if (name === "sub/b.bin") return send(200, new Uint8Array([1, 2, 3]));
      if (name === "big.bin") return send(200, big, { "content-length": big.length });
      if (name === "with%20space.txt") return send(200, "spaced");
      if (name === "boom") return send(500, "oops");
      if (name === "private") return send(403, "no");
      send(404, "not found");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("keeps the FileSource contract (base URL with or without a trailing slash)", async () => {
    await checkContract(urlSource(`${base}/m`));
    await checkContract(urlSource(`${base}/m/`));
    expect(urlSource(`${base}/m/`).label).toBe(`${base}/m`);
    expect(urlSource(`${base}/m`, { label: "hub:gpt2" }).label).toBe("hub:gpt2");
  });

  it("has() uses HEAD, and falls back to GET where HEAD is refused", async () => {
    log.length = 0;
    expect(await urlSource(`${base}/m`).has("a.txt")).toBe(true);
    expect(log).toEqual(["HEAD /m/a.txt"]);
    log.length = 0;
    const src = urlSource(`${base}/nohead/m`);
    expect(await src.has("a.txt")).toBe(true);
    expect(await src.has("missing")).toBe(false);
    expect(log).toContain("GET /nohead/m/a.txt");
  });

  it("escapes names into URL paths", async () => {
    expect(text(await urlSource(`${base}/m`).read("with space.txt"))).toBe("spaced");
  });

  it("HTTP 404 is file_missing; other statuses are fetch_failed with the status", async () => {
    const src = urlSource(`${base}/m`);
    const missing = await rejection(src.read("missing.json"));
    expect(missing.code).toBe("file_missing");
    expect(missing.message).toContain("404");
    const boom = await rejection(src.read("boom"));
    expect(boom.code).toBe("fetch_failed");
    expect(boom.message).toContain("HTTP 500");
    expect(boom.message).toContain(`${base}/m/boom`);
    expect((await rejection(src.read("private"))).message).toContain("HTTP 403");
    expect((await rejection(src.has("boom"))).code).toBe("fetch_failed");
  });

  it("streams with byte progress and reassembles the body exactly", async () => {
    const seen: [number, number | undefined][] = [];
    const got = await urlSource(`${base}/m`).read("big.bin", (l, t) => seen.push([l, t]));
    expect(got.length).toBe(big.length);
    expect(Buffer.compare(got, big)).toBe(0); // (toEqual on 300k elements is slow)
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual([big.length, big.length]);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThan(seen[i - 1][0]);
  });

  it("a refused connection is fetch_failed", async () => {
    const dead = await new Promise<string>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(`http://127.0.0.1:${port}`));
      });
    });
    const e = await rejection(urlSource(dead).read("a.txt"));
    expect(e.code).toBe("fetch_failed");
    expect(e.file).toBe("a.txt");
  });
});

describe("urlSource with an injected fetch", () => {
  it("uses it, unbound, for every request", async () => {
    const calls: string[] = [];
    const fake: typeof fetch = async function (this: unknown, input, init) {
      calls.push(`${init?.method} ${String(input)}`);
      return new Response(init?.method === "HEAD" ? null : "x", { status: 200 });
    };
    const src = urlSource("https://huggingface.co/openai-community/gpt2/resolve/main", {
      fetch: fake,
    });
    expect(await src.has("config.json")).toBe(true);
    expect(text(await src.read("config.json"))).toBe("x");
    expect(calls).toEqual([
      "HEAD https://huggingface.co/openai-community/gpt2/resolve/main/config.json",
      "GET https://huggingface.co/openai-community/gpt2/resolve/main/config.json",
    ]);
  });

  it("a fetch that throws is fetch_failed, with the cause", async () => {
    const fake: typeof fetch = async () => {
      throw new TypeError("network down");
    };
    const e = await rejection(urlSource("https://example.invalid/m", { fetch: fake }).read("a"));
    expect(e.code).toBe("fetch_failed");
    expect(e.message).toContain("network down");
  });
});
