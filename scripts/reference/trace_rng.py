"""The seeded Gaussian stream of lib/interp/rng.ts, re-implemented independently in Python.

    seed (uint32) -> splitmix32 x4 -> xoshiro128** state -> uint32 stream
    uniform u in [0, 1): ((a >> 5) * 2**26 + (b >> 6)) / 2**53   (two draws, 53 bits)
    Box-Muller: r = sqrt(-2 ln(1 - u1)); z0 = r cos(2 pi u2); z1 = r sin(2 pi u2)  (z0 first)

The integer stream is bit-identical to the TypeScript one; the normals agree to the last bit
wherever libm's log/cos/sin agree with V8's (a 1-ulp float64 difference almost never survives
the cast to float32).
"""

from __future__ import annotations

import math

import numpy as np

M32 = 0xFFFFFFFF


class GaussianRng:
    def __init__(self, seed: int) -> None:
        s = seed & M32
        st = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & M32
            z = s
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            st.append((z ^ (z >> 16)) & M32)
        self.a, self.b, self.c, self.d = st
        self.spare: float | None = None

    @staticmethod
    def _rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (32 - k))) & M32

    def next_uint32(self) -> int:
        result = (self._rotl((self.b * 5) & M32, 7) * 9) & M32
        t = (self.b << 9) & M32
        self.c ^= self.a
        self.d ^= self.b
        self.b ^= self.c
        self.a ^= self.d
        self.c ^= t
        self.d = self._rotl(self.d, 11)
        return result

    def next_uniform(self) -> float:
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992

    def next_normal(self) -> float:
        if self.spare is not None:
            z, self.spare = self.spare, None
            return z
        u1 = self.next_uniform()
        u2 = self.next_uniform()
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        th = 2.0 * math.pi * u2
        self.spare = r * math.sin(th)
        return r * math.cos(th)


def gaussian_array(seed: int, count: int, scale: float = 1.0) -> np.ndarray:
    """`count` standard normals x `scale`, rounded to float32 (as gaussianArray in rng.ts)."""
    rng = GaussianRng(seed)
    return np.array([scale * rng.next_normal() for _ in range(count)], dtype=np.float64).astype(np.float32)


def shuffled(n: int, seed: int) -> list[int]:
    """lib/edit/probe.ts shuffled: Fisher-Yates on this stream's uniforms."""
    rng = GaussianRng(seed)
    idx = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(rng.next_uniform() * (i + 1))
        idx[i], idx[j] = idx[j], idx[i]
    return idx
