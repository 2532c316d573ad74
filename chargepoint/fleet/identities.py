"""Which stations a fleet process runs: identities from a pattern, sharded by pod index.

Pod I of a Kubernetes Indexed Job runs n = I*N+1 … I*N+N for `--count N`, so K pods together
run K × N stations and no identity twice.
"""

from __future__ import annotations

from chargepoint.app.settings import Settings

DEFAULT_PATTERN = "CP-{n:04}"


class BadPattern(ValueError):
    """An identity pattern that cannot name the fleet's stations; the message says why."""


def numbers(count: int, index: int) -> range:
    """The station numbers shard `index` runs."""
    return range(index * count + 1, index * count + count + 1)


def identity(pattern: str, n: int) -> str:
    """Station n's identity; raises BadPattern when the pattern cannot make one."""
    try:
        name = pattern.format(n=n)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise BadPattern(f"--identity {pattern!r} must name the station number as {{n}}, e.g. {DEFAULT_PATTERN!r} ({exc})") from None
    if "/" in name or name in (".", ".."):
        raise BadPattern(f"--identity {pattern!r} gives {name!r}, which cannot name a data directory")
    try:
        Settings._identity(name)
    except ValueError as exc:
        raise BadPattern(f"--identity {pattern!r} gives {name!r}, which {exc}") from None
    return name


def identities(pattern: str, count: int, index: int) -> list[str]:
    """Every identity of the shard, all distinct, or BadPattern."""
    names = [identity(pattern, n) for n in numbers(count, index)]
    if "{n" not in pattern or len(set(names)) != len(names):
        raise BadPattern(f"--identity {pattern!r} gives two stations the same identity; name the number as {{n}}")
    return names
