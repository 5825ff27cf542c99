"""Benchmark: how long `govsocial` takes to start, against the bare interpreter.

Each command runs N times as its own process (the way people run it); the fastest run counts.
- ``python -c pass``: the interpreter alone, the baseline;
- ``python -c "import duckdb"``: the one library every warehouse command needs;
- ``govsocial --help`` and ``govsocial --version``: the command line alone;
- ``govsocial info``: open a small warehouse and summarise it.

Target (issue 9): `govsocial --help` and `govsocial info` well under half a second.

    python bench/bench_startup.py --repeat 7 --write-docs
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import write_section

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = """\
institutions:
  - id: jabarprov
    name: Pemerintah Provinsi Jawa Barat
    cluster: pemda
    accounts:
      - {platform: instagram, handle: jabarprovgov}
"""


def fastest(command: list[str], cwd: Path, repeat: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSOCIAL_")}
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (fastest kept)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        (cwd / "registry.yaml").write_text(REGISTRY)
        subprocess.run(
            [py, "-m", "govsocial", "registry", "load", "registry.yaml"],
            cwd=cwd,
            check=True,
            capture_output=True,
        )
        commands = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            'python -c "import duckdb"': [py, "-c", "import duckdb"],
            "govsocial --version": [py, "-m", "govsocial", "--version"],
            "govsocial --help": [py, "-m", "govsocial", "--help"],
            "govsocial info": [py, "-m", "govsocial", "info"],
        }
        seconds = {name: fastest(cmd, cwd, args.repeat) for name, cmd in commands.items()}
    base = seconds["python -c pass (baseline)"]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, Python "
        f"{platform.python_version()}, command `python bench/bench_startup.py --repeat "
        f"{args.repeat} --write-docs` (fastest of {args.repeat} runs each).",
        "",
        "| command | seconds | ÷ bare interpreter |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{name}` | {s:.3f} | {s / base:.1f}× |" for name, s in seconds.items()]
    print("\n".join(lines))
    if args.write_docs:
        write_section("bench_startup", lines)


if __name__ == "__main__":
    main()
