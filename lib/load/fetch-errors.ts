/**
 * Why a fetch failed, in words. Node's fetch throws `TypeError("fetch failed")` and keeps the
 * reason in `cause` (ECONNREFUSED, "redirect count exceeded", "URL scheme must be a HTTP(S)
 * scheme"); browsers say only "Failed to fetch" and hide the reason on purpose, so the message
 * lists what it can be.
 */

const BROWSER_HINT =
  "the browser does not say why: the server may be down or refuse the connection, redirect in a loop or to a non-http(s) address, or not allow this page to read it (CORS)";

/** Node's fetch causes → plain words. */
const PLAIN: [RegExp, string][] = [
  [/redirect count exceeded/i, "too many redirects (a redirect loop)"],
  [
    /URL scheme must be a HTTP\(S\) scheme/i,
    "redirected to an unsupported protocol (not http/https)",
  ],
  [/^bad port$/i, "the port is blocked by fetch (a port reserved for other protocols)"],
];

/** "fetch failed (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4000)" and the like. */
export function fetchFailure(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let c: unknown = e; c && !seen.has(c) && parts.length < 4; ) {
    seen.add(c);
    const err = c as { message?: unknown; code?: unknown; cause?: unknown };
    const message = typeof err.message === "string" ? err.message : String(c);
    const plain = PLAIN.find(([re]) => re.test(message))?.[1];
    const code = typeof err.code === "string" && !message.includes(err.code) ? `${err.code}: ` : "";
    parts.push(plain ?? `${code}${message}`);
    c = err.cause;
  }
  const [head, ...causes] = parts;
  if (causes.length > 0) return `${head} (${causes.join("; ")})`;
  if (
    /^(Failed to fetch|NetworkError when attempting to fetch resource\.?|Load failed)$/i.test(head)
  ) {
    return `${head} (${BROWSER_HINT})`;
  }
  return head ?? "unknown error";
}
