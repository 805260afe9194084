"""Matrix products routed through oneDNN convolutions, for speed on this machine's torch.

Debian's torch 1.13 links the reference (netlib) BLAS: a float32 matmul or bmm runs at about
4 GFLOP/s here, which would make training take hours. Its bundled oneDNN runs 1x1
convolutions at about 170 GFLOP/s, forward and backward, and a 1x1 convolution over N
"pixels" is exactly a matrix product. Both functions give the same numbers as the plain
products up to float32 rounding (model.py's self-check compares them).

With OpenBLAS as the BLAS (Debian's libopenblas0-pthread installed, or
`LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread`) torch's own matmul is the faster one (a 6-layer training step 0.55 s against 0.96 s with
the convolutions, one thread), so both functions use it whenever libopenblas is loaded.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _openblas_loaded() -> bool:
    try:
        with open("/proc/self/maps") as fh:
            return "libopenblas" in fh.read()
    except OSError:
        return False


PLAIN_MATMUL = _openblas_loaded()


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """x @ w + b for x [..., in] and w [in, out] (HF Conv1D layout)."""
    if PLAIN_MATMUL:
        return x @ w if b is None else x @ w + b
    n_in, n_out = w.shape
    rows = x.reshape(-1, n_in)  # [N, in]
    # The rows as N pixels with `in` channels: these strides are channels-last, so no copy.
    pixels = rows.t()[None, :, :, None]  # [1, in, N, 1]
    kernel = w.t()[:, :, None, None].contiguous(memory_format=torch.channels_last)  # [out, in, 1, 1]
    y = F.conv2d(pixels, kernel, b)  # [1, out, N, 1], channels-last
    # permute + reshape (not indexing): indexing's backward would zero-fill and copy a buffer.
    return y.permute(0, 2, 3, 1).reshape(*x.shape[:-1], n_out)  # [..., out]


def bmm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b for a [G, M, K] and b [G, K, N], as one grouped 1x1 convolution with G groups."""
    if PLAIN_MATMUL:
        return torch.bmm(a, b)
    G, M, K = a.shape
    N = b.shape[2]
    pixels = a.transpose(1, 2).reshape(1, G * K, M, 1)  # channels (g, k), pixels m
    kernel = b.transpose(1, 2).reshape(G * N, K, 1, 1)  # out channel (g, n) reads b[g, :, n]
    y = F.conv2d(pixels, kernel, groups=G)  # [1, G*N, M, 1]
    return y.view(G, N, M).transpose(1, 2)  # [G, M, N]
