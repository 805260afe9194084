/**
 * The worker's load request (workers/load.ts) in Node, against a local HTTP server serving the
 * tiny 4-layer fixture model: a load that fails before the swap — 404, 500, a transfer dropped
 * mid-file, a truncated file — answers `error` naming the kept model, and the previous engine stays
 * current, unchanged (same object, same predictions) and its edit stack is not reset. A later
 * good load still replaces it. Issue 10 item 5.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { Loader } from "../workers/load";
import { TINY_DIR } from "./interp-helpers";

const files: Record<string, Buffer> = Object.fromEntries(
  ["config.json", "tokenizer.json", "model.safetensors"].map((f) => [
    f,
    readFileSync(path.join(TINY_DIR, f)),
  ]),
);

/** /ok/<file> serves the model; /404/, /500/, /cut/ and /short/ fail on the weights. */
function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const [, mode, name] = (req.url ?? "").split("/");
    const body = files[name];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const weights = name === "model.safetensors";
    if (weights && mode === "404") res.writeHead(404).end("not found");
    else if (weights && mode === "500") res.writeHead(500).end("server error");
    else if (weights && mode === "cut") {
      // the connection drops halfway through the promised bytes
      res.writeHead(200, { "content-length": String(body.length) });
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
    } else if (weights && mode === "short") {
      // a file that is complete as sent, but shorter than its header says
      const half = body.subarray(0, body.length - 1024);
      res.writeHead(200, { "content-length": String(half.length) }).end(half);
    } else {
      res.writeHead(200, { "content-length": String(body.length) }).end(body);
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let server: Server;
let origin: string;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  server = await serve();
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
});

function loader() {
  const sent: FromWorker[] = [];
  let resets = 0;
  const l = new Loader({
    post: (m) => sent.push(m),
    origin,
    stopAll: () => {},
    quiet: async () => {},
    resetEdits: () => {
      resets += 1;
    },
  });
  let next = 1;
  const load = async (dir: string) => {
    const reqId = next++;
    l.submit({
      type: "load",
      reqId,
      source: { kind: "url", baseUrl: `${origin}/${dir}/` },
      backends: ["wasm"],
    });
    for (let i = 0; i < 2000; i++) {
      const answer = sent.find(
        (m) => m.reqId === reqId && (m.type === "load" || m.type === "error"),
      );
      if (answer) return answer;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`load ${dir} never answered`);
  };
  return { l, load, resets: () => resets };
}

describe("a failed load keeps the previous model", () => {
  let engine: Engine | null = null;

  it("every failure before the swap names the kept model and leaves the engine as it was", async () => {
    const { l, load, resets } = loader();
    const okSource = { kind: "url", baseUrl: `${origin}/ok/` };
    const ok = await load("ok");
    expect(ok.type).toBe("load");
    engine = await l.engine();
    expect(engine).not.toBeNull();
    const before = await engine!.predict("ab", 5);
    const resetsAfterFirst = resets();
    for (const mode of ["404", "500", "cut", "short"]) {
      const answer = await load(mode);
      expect(answer, mode).toMatchObject({
        type: "error",
        kept: { source: okSource, backend: "wasm", model: engine!.info },
      });
      if (answer.type === "error") {
        expect(answer.code).not.toBe("internal");
        expect(answer.message).toMatch(/is still loaded$/);
      }
      expect(await l.engine(), mode).toBe(engine); // the same engine, not freed
      expect((await engine!.predict("ab", 5)).top, mode).toEqual(before.top);
      expect(resets(), mode).toBe(resetsAfterFirst); // its edit stack was not reset
      expect(l.baseUrl(), mode).toBe(`${origin}/ok/`); // dataset.json still from its folder
    }
    // a good load still replaces it (and frees it)
    const again = await load("ok");
    expect(again.type).toBe("load");
    const next = await l.engine();
    expect(next).not.toBe(engine);
    expect(resets()).toBe(resetsAfterFirst + 1);
    next?.dispose();
  });
});
