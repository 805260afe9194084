/** The hook vocabulary is a contract with the UI, the URL format and researchers: pin it. */
import { describe, expect, it } from "vitest";
import { hookLayout } from "../lib/model/hook-plan";
import { BLOCK_HOOKS, blockHook, hookNames } from "../lib/model/hooks";

describe("hook names", () => {
  it("are exactly these, in this order, for a 2-layer model", () => {
    expect(hookNames(2)).toEqual([
      "hook_embed",
      "hook_pos_embed",
      "blocks.0.hook_resid_pre",
      "blocks.0.attn.hook_q",
      "blocks.0.attn.hook_k",
      "blocks.0.attn.hook_v",
      "blocks.0.attn.hook_pattern",
      "blocks.0.attn.hook_z",
      "blocks.0.hook_attn_out",
      "blocks.0.hook_resid_mid",
      "blocks.0.mlp.hook_pre",
      "blocks.0.mlp.hook_post",
      "blocks.0.hook_mlp_out",
      "blocks.0.hook_resid_post",
      "blocks.1.hook_resid_pre",
      "blocks.1.attn.hook_q",
      "blocks.1.attn.hook_k",
      "blocks.1.attn.hook_v",
      "blocks.1.attn.hook_pattern",
      "blocks.1.attn.hook_z",
      "blocks.1.hook_attn_out",
      "blocks.1.hook_resid_mid",
      "blocks.1.mlp.hook_pre",
      "blocks.1.mlp.hook_post",
      "blocks.1.hook_mlp_out",
      "blocks.1.hook_resid_post",
      "ln_final.hook_normalized",
    ]);
  });

  it("grow by one block's worth per layer", () => {
    expect(hookNames(0)).toEqual(["hook_embed", "hook_pos_embed", "ln_final.hook_normalized"]);
    expect(hookNames(12)).toHaveLength(3 + 12 * BLOCK_HOOKS.length);
    expect(blockHook(3, "hook_mlp_out")).toBe("blocks.3.hook_mlp_out");
  });

  it("have the documented activation layouts", () => {
    expect(hookLayout("blocks.0.attn.hook_q")).toBe("bthe");
    expect(hookLayout("blocks.11.attn.hook_z")).toBe("bthe");
    expect(hookLayout("blocks.0.attn.hook_pattern")).toBe("bhqk");
    expect(hookLayout("blocks.0.hook_attn_out")).toBe("btf");
    expect(hookLayout("blocks.0.mlp.hook_post")).toBe("btf");
    expect(hookLayout("hook_embed")).toBe("btf");
  });
});
