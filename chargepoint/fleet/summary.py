"""The fleet's summary: JSON a CSMS engineer keeps, the table they read, and pods merged into one.

Merging adds the histograms' buckets and the counters, so a merged p99 is the p99 of every
round trip of every pod, not an average of the pods' p99s.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from chargepoint.fleet.figures import Figures
from chargepoint.fleet.latency import PERCENTILES, Histogram


def summary(figures: Figures, fleet: dict[str, Any]) -> dict[str, Any]:
    """`fleet` describes the shard: stations, index, first and last identity, seed, CSMS."""
    elapsed = figures.elapsed
    return {
        "fleet": fleet,
        "shards": [fleet["index"]],
        "stations": fleet["stations"],
        "duration_s": round(elapsed, 3),
        "messages": figures.frames,
        "messages_per_s": round(figures.frames / elapsed, 1) if elapsed else 0.0,
        "sessions": {"started": figures.sessions_started, "completed": figures.sessions_completed},
        "actions": {name: h.to_json() for name, h in sorted(figures.latency.items())},
        "errors": dict(sorted(figures.errors.items())),
    }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary for pods that ran side by side; raises ValueError for a part not a summary
    or two parts of the same shard (which would count its stations twice)."""
    shards = [i for part in parts for i in _field(part, "shards")]
    if len(set(shards)) != len(shards):
        raise ValueError(f"shard {next(i for i in shards if shards.count(i) > 1)} appears twice")
    actions: dict[str, Histogram] = {}
    errors: Counter[str] = Counter()
    for part in parts:
        for name, data in _field(part, "actions").items():
            actions.setdefault(name, Histogram()).merge(Histogram.from_json(data))
        errors.update(_field(part, "errors"))
    duration = max(float(_field(part, "duration_s")) for part in parts)
    messages = sum(int(_field(part, "messages")) for part in parts)
    return {
        "shards": sorted(shards),
        "stations": sum(int(_field(part, "stations")) for part in parts),
        "duration_s": duration,
        "messages": messages,
        "messages_per_s": round(sum(float(_field(part, "messages_per_s")) for part in parts), 1),
        "sessions": {k: sum(int(_field(part, "sessions")[k]) for part in parts) for k in ("started", "completed")},
        "actions": {name: h.to_json() for name, h in sorted(actions.items())},
        "errors": dict(sorted(errors.items())),
    }


def _field(part: dict[str, Any], name: str) -> Any:
    if not isinstance(part, dict) or name not in part:
        raise ValueError(f"not a fleet summary: no {name!r}")
    return part[name]


def table(data: dict[str, Any]) -> str:
    """The summary as a CSMS engineer reads it at the end of a run."""
    lines = [
        f"{data['stations']} stations, {data['duration_s']:.0f} s, {data['messages']} messages"
        f" ({data['messages_per_s']:g}/s), sessions {data['sessions']['completed']} completed"
        f" of {data['sessions']['started']} started",
        "",
        f"{'action':<28}{'count':>8}" + "".join(f"{'p' + str(p) + ' ms':>10}" for p in PERCENTILES) + f"{'max ms':>10}",
    ]
    for name, h in data["actions"].items():
        figures = "".join(f"{h[f'p{p}_ms']:>10.1f}" for p in PERCENTILES)
        lines.append(f"{name:<28}{h['count']:>8}{figures}{h['max_ms']:>10.1f}")
    lines += ["", "errors: none" if not data["errors"] else "errors:"]
    lines += [f"{n:>8}  {kind}" for kind, n in data["errors"].items()]
    return "\n".join(lines)
