/** Types for server.mjs (plain JS so Playwright and node can run it without a build). */
export interface HubStandin {
  url: string;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}
export function startHubStandin(opts: {
  root: string;
  port?: number;
  host?: string;
  slowBytesPerSec?: number;
}): Promise<HubStandin>;
