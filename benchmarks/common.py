"""Shared helpers of the benchmark commands: machine line, tables, simulated long recordings."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

console = Console(width=120)
ROOT = Path(__file__).resolve().parents[1]


def machine_line() -> str:
    """One line describing the machine and its load (the benchmarks share it with others)."""
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "?"
    la = os.getloadavg()
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"load avg {la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f} at start")


def table(title: str, columns: list[str]) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right")
    return t


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def cpu_seconds(pid: int | str = "self") -> float:
    """utime+stime of a process (s) from /proc (children not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process (bytes) from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def long_run(hours: float = 1.0, fs: float = 200.0, base_s: float = 600.0, seed: int = 1):
    """``hours`` of running at ``fs`` Hz: one simulated ``base_s`` session (standing, gait,
    standing) tiled with continuous time. Returns (time s, acc m/s² sensor frame, gyr rad/s,
    forward, up)."""
    from gaitmon.sim import SimConfig, simulate

    rec = simulate(SimConfig(activity="run", fs=fs, duration_s=base_s, seed=seed, internal_hz=1000.0))
    reps = max(1, int(round(hours * 3600.0 / (rec.time[-1] - rec.time[0]))))
    period = rec.time[-1] - rec.time[0] + 1.0 / fs
    t = np.concatenate([rec.time + k * period for k in range(reps)])
    return t, np.tile(rec.acc, (reps, 1)), np.tile(rec.gyr, (reps, 1)), rec.forward, rec.up


class Stopwatch:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.s = time.perf_counter() - self.t0
