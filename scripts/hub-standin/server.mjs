/**
 * A stand-in for the Hugging Face hub's file server, for tests: serves model folders under
 * `<root>/<org>/<name>/` in the hub's URL layout.
 *
 *   GET|HEAD /<org>/<name>/resolve/<revision>/<file>
 *     revision must be "main"; *.safetensors answer 302 → /__lfs/… (as the hub redirects LFS
 *     files to its CDN, with X-Linked-Size), other files 200 with Content-Length.
 *     Unknown repo → 401 (what the hub says, unauthenticated, for absent/private repos);
 *     unknown file or revision → 404 with X-Error-Code EntryNotFound / RevisionNotFound.
 *   /<org>/<name>-slow/…   the same repo, its LFS bodies throttled (--slow-bps, default 256 KiB/s)
 * Hostile servers, for the loader's limits (the same repo; only the weight shards misbehave):
 *   /<org>/<name>-endless/…   LFS bodies never end (no Content-Length, zeros until the client goes)
 *   /<org>/<name>-lying/…     LFS bodies claim Content-Length 1 TiB (and never end)
 *   /<org>/<name>-stall/…     LFS bodies send 1 KiB, then nothing, holding the connection open
 *   /<org>/<name>-loop/…      *.safetensors redirect to themselves, forever
 *   /<org>/<name>-tofile/…    *.safetensors redirect to file:///etc/passwd
 *   GET /__requests        JSON list of every request so far ({method, path}), for assertions
 * Every answer carries CORS headers, so a page on another origin can fetch (and read) it.
 *
 *   node scripts/hub-standin/serve.mjs --root <dir> [--port 4180] [--slow-bps 262144]
 */
import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, OPTIONS",
  "access-control-allow-headers": "*",
  "access-control-expose-headers": "content-length, etag, x-linked-size, x-error-code, location",
};

const MODE = /-(slow|endless|lying|stall|loop|tofile)$/;

/**
 * The hostile bodies: endless zeros (with no length, or a 1 TiB one), or 1 KiB and then silence.
 * Writes wait for the socket to drain, so an endless body costs the server no memory.
 * @param {http.ServerResponse} res @param {string} mode @param {number} size
 */
function misbehave(res, mode, size) {
  const headers = { ...CORS, "content-type": "application/octet-stream" };
  if (mode === "lying") headers["content-length"] = String(2 ** 40);
  if (mode === "stall") headers["content-length"] = String(size);
  res.writeHead(200, headers);
  if (mode === "stall") {
    res.write(Buffer.alloc(1024));
    return; // never ends: the client must give up (res "close" frees it)
  }
  const chunk = Buffer.alloc(64 * 1024);
  let open = true;
  res.on("close", () => {
    open = false;
  });
  const pump = () => {
    while (open && res.write(chunk)) {
      // keep writing until the socket's buffer is full
    }
    if (open) res.once("drain", pump);
  };
  pump();
}

/** @param {{root: string, port?: number, host?: string, slowBytesPerSec?: number}} opts */
export function startHubStandin(opts) {
  const root = path.resolve(opts.root);
  const slowBps = opts.slowBytesPerSec ?? 256 * 1024;
  /** @type {{method: string, path: string}[]} */
  const requests = [];

  const fileOf = (org, name, file) => {
    const p = path.resolve(root, org, name, file);
    if (!p.startsWith(root + path.sep)) return null;
    try {
      return statSync(p).isFile() ? p : null;
    } catch {
      return null;
    }
  };
  const repoExists = (org, name) => {
    try {
      return statSync(path.join(root, org, name)).isDirectory();
    } catch {
      return false;
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://standin");
    const method = req.method ?? "GET";
    if (url.pathname !== "/__requests") requests.push({ method, path: url.pathname });
    const send = (status, headers, body) => {
      res.writeHead(status, { ...CORS, ...headers });
      res.end(method === "HEAD" ? undefined : body);
    };
    if (method === "OPTIONS") return send(204, {});
    if (method !== "GET" && method !== "HEAD") return send(405, { allow: "GET, HEAD" }, "");
    if (url.pathname === "/__requests") {
      return send(200, { "content-type": "application/json" }, JSON.stringify(requests));
    }
    const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const lfs = parts[0] === "__lfs";
    const [org, rawName, resolve, revision, ...rest] = lfs
      ? [parts[1], parts[2], "resolve", "main", ...parts.slice(3)]
      : parts;
    if (!org || !rawName || resolve !== "resolve" || rest.length !== 1) {
      return send(404, { "content-type": "text/plain" }, "Not found");
    }
    const mode = MODE.exec(rawName)?.[1];
    const slow = mode === "slow";
    const name = mode ? rawName.slice(0, -mode.length - 1) : rawName;
    const file = rest[0];
    if (!repoExists(org, name)) {
      return send(
        401,
        { "x-error-code": "RepoNotFound", "content-type": "text/plain" },
        "Repository not found",
      );
    }
    if (revision !== "main") {
      return send(
        404,
        { "x-error-code": "RevisionNotFound", "content-type": "text/plain" },
        "Revision not found",
      );
    }
    const p = fileOf(org, name, file);
    if (!p) {
      return send(
        404,
        { "x-error-code": "EntryNotFound", "content-type": "text/plain" },
        "Entry not found",
      );
    }
    const size = statSync(p).size;
    if (!lfs && file.endsWith(".safetensors") && (mode === "loop" || mode === "tofile")) {
      const location = mode === "loop" ? url.pathname : "file:///etc/passwd";
      return send(302, { location }, "");
    }
    if (lfs && method === "GET" && (mode === "endless" || mode === "lying" || mode === "stall")) {
      return misbehave(res, mode, size);
    }
    if (!lfs && file.endsWith(".safetensors")) {
      return send(
        302,
        {
          location: `/__lfs/${org}/${rawName}/${encodeURIComponent(file)}`,
          "x-linked-size": String(size),
        },
        "",
      );
    }
    res.writeHead(200, {
      ...CORS,
      "content-type": file.endsWith(".json") ? "application/json" : "application/octet-stream",
      "content-length": String(size),
      etag: `"${size}-${file}"`,
    });
    if (method === "HEAD") return res.end();
    if (!slow || !lfs) return createReadStream(p).pipe(res);
    // Throttled: 16 KiB chunks paced to slowBps; stops when the client goes away.
    const stream = createReadStream(p, { highWaterMark: 16 * 1024 });
    stream.on("data", (chunk) => {
      stream.pause();
      res.write(chunk);
      setTimeout(() => stream.resume(), (chunk.length / slowBps) * 1000);
    });
    stream.on("end", () => res.end());
    res.on("close", () => stream.destroy());
  });

  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : opts.port;
      resolvePromise({
        url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
        requests,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r(undefined));
          }),
      });
    });
  });
}
