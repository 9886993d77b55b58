"""Split a project list deterministically into N shards (one per machine of a CI matrix)."""

from __future__ import annotations

import hashlib
import re
from typing import Sequence


class ShardError(ValueError):
    """A ``K/N`` shard specification that cannot be used."""


def parse_shard(spec: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``; shards count from 1."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec)
    if not match:
        raise ShardError(f"--shard wants K/N such as 1/4, got {spec!r}")
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or not 1 <= k <= n:
        raise ShardError(f"--shard {spec}: K must be between 1 and N")
    return k, n


def normalize(name: str) -> str:
    """PEP 503 normalisation, so the same project lands in the same shard however it is spelled."""
    return re.sub(r"[-_.]+", "-", name).lower()


def shard_of(name: str, n: int) -> int:
    """The shard (1..n) of ``name``: a stable hash, the same on every machine and Python version."""
    digest = hashlib.sha256(normalize(name).encode()).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def select(names: Sequence[str], k: int, n: int) -> list[str]:
    """The names of shard ``k`` of ``n``, in their original order."""
    return [name for name in names if shard_of(name, n) == k]
