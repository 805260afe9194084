"""Golden values for lib/share/f16.ts: float32 numbers and numpy's own float16 rounding of them
(IEEE 754 binary16, round to nearest even), written to test/fixtures/share/f16-golden.json.

    python3 scripts/reference/share_f16_ref.py

Covers normals, subnormals, ties (exact halfway cases), the overflow edge (65504, 65520) and
signed zeros, plus random values over many magnitudes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "share" / "f16-golden.json"


def main() -> None:
    rng = np.random.default_rng(20261122)
    special = [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 65504.0, 65519.0, 65520.0, 1e5, 6.1035156e-05,
               5.9604645e-08, 2.9802322e-08, 2.98023259e-08, 1e-8, 1e-10, 1.00048828125, 1.00146484375,
               2049.0, 2051.0, 0.5 + 2 ** -12, 3.0517578e-05, 4.5e-06]
    rand = (rng.standard_normal(400) * np.exp(rng.uniform(-20, 12, 400))).tolist()
    x = np.array(special + rand, dtype=np.float32)
    h = x.astype(np.float16)
    out = {
        "generator": "scripts/reference/share_f16_ref.py (numpy astype(float16))",
        "float32": [float(v) for v in x],
        "f16_bits": [int(b) for b in h.view(np.uint16)],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out) + "\n")
    print(f"wrote {len(x)} values to {OUT}")


if __name__ == "__main__":
    main()
