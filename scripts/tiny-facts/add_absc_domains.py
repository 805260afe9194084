"""Adds dataset.py's `absc_domains` to a built model's dataset.json, every other key unchanged.

    /usr/bin/python3 scripts/tiny-facts/add_absc_domains.py public/models/tiny-facts public/models/tiny-facts-llama

The review domains depend only on the world's seed (sentiment.make_domain_reviews), not on the
model, so the bundled models get them without a rebuild (which would move every golden); a
rebuild with build.py writes the same key.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from build import write_json  # noqa: E402
from dataset import absc_domains  # noqa: E402

for folder in sys.argv[1:]:
    path = os.path.join(folder, "dataset.json")
    with open(path) as fh:
        data = json.load(fh)
    data["absc_domains"] = absc_domains(data["seed"])
    # same position as build_dataset puts it: before "consistency"
    order = [k for k in data if k != "absc_domains"]
    at = order.index("consistency")
    data = {k: data[k] for k in order[:at] + ["absc_domains"] + order[at:]}
    write_json(path, data)
    print(f"{path}: absc_domains {', '.join(f'{d} ' + '/'.join(f'{s}={len(v)}' for s, v in data['absc_domains'][d].items()) for d in ('restaurant', 'hotel'))}")
