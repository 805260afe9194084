"""Minimal safetensors reader/writer for float32 tensors (the `safetensors` package is absent).

Format: 8-byte little-endian header length N, N bytes of JSON header mapping each name to
{dtype, shape, data_offsets: [begin, end]} (offsets relative to the end of the header), then
the row-major little-endian data. The header is padded with spaces to a multiple of 8 so the
data starts aligned.
"""

from __future__ import annotations

import json
import struct

import numpy as np


def save_file(tensors: dict[str, np.ndarray], path: str, metadata: dict[str, str] | None = None) -> None:
    header: dict = {"__metadata__": metadata or {"format": "pt"}}
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):  # sorted, as the reference implementation writes them
        arr = np.ascontiguousarray(tensors[name], dtype="<f4")
        blob = arr.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def load_file(path: str) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: only F32 is supported, got {info['dtype']}"
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], dtype="<f4").reshape(info["shape"]).copy()
    return out
