"""Facts about the machine and the libraries, written beside every benchmark result
so that a number can be read against what produced it.

>>> facts = machine_facts()
>>> facts["cores"] >= 1 and "numpy" in facts["libraries"]
True
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Distributions whose versions a result depends on (absent ones are reported as such).
LIBRARIES = ("numpy", "scipy", "scikit-image", "scikit-learn", "torch", "streamlit", "pillow",
             "plotly", "playwright", "threadpoolctl", "seglab")


def status_kb(field_name: str, pid: int | str = "self") -> int | None:
    """A memory figure of a process from ``/proc/PID/status`` in kB (``VmRSS``,
    ``VmHWM``...), or None where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git() -> dict:
    def run(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line for line in run("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": run("rev-parse", "HEAD") or "unknown",
            "uncommitted_changes": len(changed)}


def _thread_pools() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info

        import numpy  # noqa: F401  (loads its BLAS, so threadpoolctl sees it)
        return [{k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
                for info in threadpool_info()]
    except Exception:  # noqa: BLE001  (a fact we can do without)
        return []


def machine_facts() -> dict:
    """CPU, cores, memory, load, Python, library versions, thread pools, git state, date."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": usable,
        "memory_gib": _memory_gib(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "libraries": {name: _version(name) for name in LIBRARIES},
        "thread_pools": _thread_pools(),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                  "MKL_NUM_THREADS") if k in os.environ},
        "git": _git(),
    }


def describe(facts: dict) -> str:
    """The facts in a few lines, for the top of a printed report.

    Examples
    --------
    >>> describe({"date": "d", "cpu": "c", "cores": 2, "memory_gib": 8, "load_average": [1, 1, 1],
    ...           "python": "3", "libraries": {"numpy": "2"}, "git": {"commit": "abc",
    ...           "uncommitted_changes": 0}}).splitlines()[0]
    'd: c, 2 cores, 8 GiB, load average 1 1 1'
    """
    libs = ", ".join(f"{k} {v}" for k, v in facts["libraries"].items() if v != "not installed")
    git = facts["git"]
    changed = git["uncommitted_changes"]
    dirty = f" + {changed} uncommitted file(s)" if changed else ""
    load = " ".join(str(x) for x in facts["load_average"])
    return (f"{facts['date']}: {facts['cpu']}, {facts['cores']} cores, {facts['memory_gib']} GiB, "
            f"load average {load}\nPython {facts['python']}; {libs}\n"
            f"git {git['commit'][:12]}{dirty}")
