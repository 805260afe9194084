/**
 * The command line of scripts/bench.mjs: its flags (see that file's header) and the plan they
 * give (what runs where, printed at the start of a run).
 */

export const ALL = ["hidden", "mlp", "attn", "heads"];

function usage(msg) {
  console.error(`bench: ${msg}`);
  console.error(
    "usage: node scripts/bench.mjs [--quick] [--node-only | --browser-only] [--samples N] [--gpt2-samples N] [--browser-samples N] [--naive-rows K] [--all-sweeps] [--no-gpt2] [--docs | --no-docs] [--port P] [--peers | --peers-only]",
  );
  process.exit(2);
}

export function parseArgs(argv) {
  const o = {
    quick: false,
    node: true,
    browser: true,
    gpt2: true,
    samples: undefined,
    gpt2Samples: undefined,
    naiveRows: undefined,
    browserSamples: undefined,
    allSweeps: false,
    docs: undefined,
    port: 0,
    peers: false,
    peersOnly: false,
  };
  const int = (a, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${a} needs an integer ≥ ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--node-only") o.browser = false;
    else if (a === "--browser-only") o.node = false;
    else if (a === "--no-gpt2") o.gpt2 = false;
    else if (a === "--samples") o.samples = int(a, value(), 1);
    else if (a === "--gpt2-samples") o.gpt2Samples = int(a, value(), 1);
    else if (a === "--naive-rows") o.naiveRows = int(a, value(), 0);
    else if (a === "--browser-samples") o.browserSamples = int(a, value(), 1);
    else if (a === "--all-sweeps") o.allSweeps = true;
    else if (a === "--docs") o.docs = true;
    else if (a === "--no-docs") o.docs = false;
    else if (a === "--port") o.port = int(a, value(), 0);
    else if (a === "--peers") o.peers = true;
    else if (a === "--peers-only") o.peersOnly = true;
    else if (a === "--help" || a === "-h") usage("help");
    else usage(`unknown argument ${a}`);
  }
  if (!o.node && !o.browser) usage("--node-only and --browser-only exclude each other");
  return o;
}

/**
 * What runs where. Per model: N (noise samples per trace cell) and, per prompt, its sweeps and
 * the rows naive is measured on before extrapolating (absent: naive in full). Sized from runs on
 * this 2-core machine: see docs/benchmarks.md.
 */
export function makePlan(args) {
  const rows = (k) => {
    const n = args.naiveRows ?? k;
    return n > 0 ? { naiveRows: n } : {};
  };
  const sweeps = (list) => (args.allSweeps ? ALL : list);
  if (args.quick) {
    return {
      bundled: {
        samples: args.samples ?? 2,
        prompts: [{ label: "short", sweeps: ALL, ...rows(0) }],
      },
      gpt2small: args.gpt2
        ? {
            samples: args.gpt2Samples ?? 1,
            prompts: [{ label: "short", sweeps: sweeps(["hidden", "heads"]), ...rows(1) }],
          }
        : null,
      browser: {
        samples: args.browserSamples ?? 2,
        prompts: [{ label: "short", sweeps: sweeps(["hidden", "heads"]), ...rows(2) }],
      },
    };
  }
  return {
    // wasm runs the bundled model fast: ROME's 10 samples; naive in full on the short prompt
    bundled: {
      samples: args.samples ?? 10,
      prompts: [
        { label: "short", sweeps: ALL, ...rows(0) },
        { label: "long", sweeps: ALL, ...rows(3) },
      ],
    },
    // GPT-2 small's shape: one sample; naive on one row (a position's 12 cells, a layer's 12
    // heads: 5–8 s), where the whole naive sweep would take 1–8 minutes
    gpt2small: args.gpt2
      ? {
          samples: args.gpt2Samples ?? 1,
          prompts: [
            { label: "short", sweeps: ALL, ...rows(1) },
            { label: "long", sweeps: ALL, ...rows(1) },
          ],
        }
      : null,
    // SwiftShader: a naive cell of the bundled model takes 0.6 s (10 tokens) to 1.5 s (30
    // tokens) at N = 2, and 2 s at N = 10, so N = 2 and naive on one or two rows
    browser: {
      samples: args.browserSamples ?? 2,
      prompts: [
        { label: "short", sweeps: ALL, ...rows(2) },
        { label: "long", sweeps: ALL, ...rows(1) },
      ],
    },
  };
}

function describeModelPlan(where, name, m) {
  const prompts = m.prompts.map(
    (p) =>
      `${p.label}: ${p.sweeps.length === ALL.length ? "all sweeps" : p.sweeps.join(" + ")}, naive ${p.naiveRows ? `on its first ${p.naiveRows} row${p.naiveRows === 1 ? "" : "s"} (extrapolated)` : "in full"}`,
  );
  return `${where}: ${name}, N = ${m.samples} sample${m.samples === 1 ? "" : "s"}; ${prompts.join("; ")}`;
}

export function describePlan(args, plan) {
  const lines = [];
  if (args.node) {
    lines.push(describeModelPlan("Node (wasm)", "tiny-facts", plan.bundled));
    if (plan.gpt2small) {
      lines.push(
        describeModelPlan("Node (wasm)", "GPT-2-small shape, random weights", plan.gpt2small),
      );
    }
  }
  if (args.browser) lines.push(describeModelPlan("Chromium (webgpu)", "tiny-facts", plan.browser));
  return lines;
}
