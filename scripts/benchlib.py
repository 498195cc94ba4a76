"""What the benchmark scripts share: a throwaway PostgreSQL cluster for the length of a run."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def postgres(port: int, durable: bool = False) -> Iterator[str]:
    """Start a cluster with scripts/pg-throwaway on ``port``; its URL; stopped afterwards.

    Like the tests' cluster it runs without fsync unless ``durable``: then with PostgreSQL's
    crash-safe defaults, for measuring what durability costs."""
    cluster = Path(tempfile.mkdtemp(prefix="observe-bench-pg-"))  # the postgres user enters it
    env = {**os.environ, "PG_THROWAWAY_DURABLE": "1" if durable else "0"}
    out = subprocess.run([ROOT / "scripts" / "pg-throwaway", "start", cluster, str(port)],
                         check=True, capture_output=True, text=True, env=env)  # fmt: skip
    try:
        yield out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([ROOT / "scripts" / "pg-throwaway", "stop", cluster], check=False)
