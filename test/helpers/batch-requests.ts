/**
 * The batch fixture test/edit-memit.test.ts and test/edit-pmet.test.ts both edit the small random
 * GPT-2s with: two rewrites, hyper-parameters under which each layer's update reaches its
 * least-squares goal exactly, and the activation at each request's subject's last token.
 */
import type { ModelLike } from "../../lib/edit/apply";
import { activationsAt } from "../../lib/edit/batch";
import { subjectPrompt } from "../../lib/edit/tokens";
import type { MemitHparams, RewriteRequest } from "../../lib/edit/types";
import type { TextTokenizer } from "../../lib/util/tokenizer";

export const REQUESTS: RewriteRequest[] = [
  { prompt: "{} lives in", subject: "bob", target_new: "x" },
  { prompt: "{} plays the", subject: "amy", target_new: "q" },
];

/** C = I, λ tiny, only the bare prompt (no context templates), `steps` steps for the targets. */
export function exactHparams(steps: number): MemitHparams {
  return {
    mom2_dataset: "identity",
    mom2_update_weight: 1e-6,
    v_num_grad_steps: steps,
    context: { per_length: 0 },
  };
}

/** `hook` at each of REQUESTS' subject's last token, on its bare prompt. */
export async function atSubjects(
  m: ModelLike,
  tok: TextTokenizer,
  hook: string,
): Promise<Float32Array[]> {
  const rows = REQUESTS.map((r) => subjectPrompt(tok, r.prompt, r.subject));
  const acts = await activationsAt(
    m,
    rows.map((r) => r.ids),
    [hook],
    rows.map((r) => [r.subjectLast]),
  );
  return acts.get(hook)!;
}
