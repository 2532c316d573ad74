"""Round-trip latencies as a mergeable histogram: per-pod summaries add up to the fleet's.

Buckets grow by 5 % from 0.1 ms, so a percentile read from them is within 5 % of the true
one, and merging two histograms is adding their counts: exact, unlike averaging percentiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

FLOOR = 1e-4  # seconds: the lower edge of bucket 0; faster round trips land in it
GROWTH = 1.05
PERCENTILES = (50, 90, 99)


def bucket(seconds: float) -> int:
    if seconds <= FLOOR:
        return 0
    return 1 + int(math.log(seconds / FLOOR, GROWTH))


def upper_edge(index: int) -> float:
    return FLOOR * GROWTH**index


@dataclass
class Histogram:
    counts: dict[int, int] = field(default_factory=dict)
    count: int = 0
    max: float = 0.0

    def add(self, seconds: float) -> None:
        index = bucket(seconds)
        self.counts[index] = self.counts.get(index, 0) + 1
        self.count += 1
        self.max = max(self.max, seconds)

    def merge(self, other: Histogram) -> None:
        for index, n in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + n
        self.count += other.count
        self.max = max(self.max, other.max)

    def percentile(self, p: float) -> float:
        """The upper edge of the bucket holding the p-th percentile (never above the max)."""
        if not self.count:
            return 0.0
        rank = math.ceil(self.count * p / 100)
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return min(upper_edge(index), self.max)
        return self.max

    def to_json(self) -> dict[str, Any]:
        figures = {f"p{p}_ms": round(self.percentile(p) * 1000, 3) for p in PERCENTILES}
        return {
            "count": self.count, **figures, "max_ms": round(self.max * 1000, 3),
            "buckets": {str(i): n for i, n in sorted(self.counts.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        counts = {int(i): int(n) for i, n in data["buckets"].items()}
        return cls(counts, sum(counts.values()), float(data["max_ms"]) / 1000)
