"""The one JIT decorator of the core: ``@kernel`` = ``numba.njit(cache=True)``, IEEE-strict.

Two rules every kernel module follows by importing its decorator from here:

- **No fastmath.** With it LLVM reassociates floating-point sums differently for AVX2 and AVX-512,
  and borderline contacts flipped between two machines (tests/core/test_golden.py). Strict IEEE
  arithmetic gives the same step table on every x86-64 CPU and costs no measurable speed here.
- **A cache keyed on every core source file.** Numba's on-disk cache is invalidated only when the
  file that *defines* a function changes; ``engine.run_engine`` compiles in the functions of
  ``steps.py``, ``side_model.py``… and would keep a stale copy of them after an edit there.
  The cache therefore lives in a directory named by a hash of all ``gaitmon/core/*.py``:
  ``$NUMBA_CACHE_DIR`` (or ``$XDG_CACHE_HOME/gaitmon/numba``, ``~/.cache/gaitmon/numba``, else the
  temp directory) ``/core-<hash>``. Any edit to the core starts a fresh cache (one cold compile,
  ≈ 10 s); old directories can be deleted at will.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numba
from numba import njit

_CORE = Path(__file__).resolve().parent


def source_fingerprint() -> str:
    """Short SHA-256 of the core's Python sources (names and contents)."""
    h = hashlib.sha256()
    for p in sorted(_CORE.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _writable(d: Path) -> bool:
    try:
        d.mkdir(parents=True, exist_ok=True)
        return os.access(d, os.W_OK)
    except OSError:
        return False


def _cache_dir() -> str:
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        try:
            base = (Path(xdg) if xdg else Path.home() / ".cache") / "gaitmon" / "numba"
        except RuntimeError:  # no home directory (a service user)
            base = Path(tempfile.gettempdir()) / "gaitmon-numba"
        if not _writable(base):
            base = Path(tempfile.gettempdir()) / f"gaitmon-numba-{os.getuid() if hasattr(os, 'getuid') else 0}"
    return str(base / f"core-{source_fingerprint()}")


# numba picks the cache locator when a function is decorated: set the directory before any kernel
CACHE_DIR = _cache_dir()
numba.config.CACHE_DIR = CACHE_DIR

#: kernels that allocate (return new arrays)
kernel = njit(cache=True)
#: the engine's kernels: no allocation, so no reference counting (``_nrt=False``) — with it, every
#: array handed to a helper cost a pair of reference-count calls per sample (the engine ran at a
#: third of its speed once split into modules)
engine_kernel = njit(cache=True, _nrt=False)
#: per-sample helpers of the engine, also inlined into its loop at Numba-IR level
inline_kernel = njit(cache=True, _nrt=False, inline="always")
