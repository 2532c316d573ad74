"""Time to make the station's new key pair and its CSR, per `client_key_type`.

Why: SignCertificate makes a key on the board (whitepaper A02.FR.02), off the event loop but on
the same small CPU that serves the connectors; this shows what ECDSA P-256 (the default) and
RSA 2048 cost. RSA key generation varies with the primes it happens to find, so the figures
are the median and the slowest of the runs. One line per figure.

Usage: .venv/bin/python bench/client_key.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import get_args

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chargepoint.security.signing_request import KeyType, new_private_key, signing_request  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    for kind in get_args(KeyType):
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            signing_request(new_private_key(kind), "CP-BENCH-1", "Bench CPO")
            took.append(time.perf_counter() - started)
        print(f"{kind} key + CSR: median {statistics.median(took) * 1000:.1f} ms, slowest {max(took) * 1000:.1f} ms ({runs} runs)")


if __name__ == "__main__":
    main()
