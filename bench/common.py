"""What the benchmarks share: running a phase in its own process, and their docs sections."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(name: str, lines: list[str]) -> None:
    """Replace one benchmark's marked section of docs/benchmarks.md (or append it)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = "\n".join([begin, *lines, end])
    text = DOCS.read_text() if DOCS.exists() else ""
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text += "\n" + block + "\n"
    DOCS.write_text(text)


def run_phase(script: str, *args: str) -> dict[str, float]:
    """Run ``script --child ARGS`` in a fresh process (so its peak memory is its own)."""
    done = subprocess.run(
        [sys.executable, script, "--child", *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def peak_rss_mb() -> float:
    """This process's own peak resident memory. VmHWM, not ru_maxrss: on Linux ru_maxrss of a
    forked child starts from its parent's size at the fork, and inflates small phases."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_phase(result: dict[str, Any]) -> None:
    """The child's side: print its result with its peak resident memory, for run_phase."""
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
