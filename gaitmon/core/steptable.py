"""Steps held as columns: ~100 bytes a step instead of ~420 for a list of :class:`Step` objects.

``gaitmon analyze`` of a day-long recording keeps every step (for the summary, the per-step file
and the database) — a full day of running is ~250,000 steps, 25 MB as columns. A
:class:`StepTable` is a read-only sequence of ``Step``: iterating or indexing it builds the
``Step`` objects on the fly, so every consumer of a list of steps accepts it; :meth:`column`
gives a column as a numpy array without building any. Pure numpy, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from gaitmon.core.types import STEP_COLUMNS, Step

_FLOATS = tuple(c for c in STEP_COLUMNS if c not in ("side", "activity", "stride_index"))


class StepTable(Sequence):
    """Growable columnar store of steps (see module docstring)."""

    def __init__(self, steps: Iterable[Step] = (), capacity: int = 1024):
        self._n = 0
        self._f = np.empty((capacity, len(_FLOATS)))
        self._left = np.empty(capacity, np.bool_)
        self._run = np.empty(capacity, np.bool_)
        self._stride = np.empty(capacity, np.int64)
        self.extend(steps)

    def extend(self, steps: Iterable[Step]) -> None:
        steps = list(steps)
        if not steps:
            return
        need = self._n + len(steps)
        if need > len(self._f):
            cap = max(need, 2 * len(self._f))
            self._f = np.resize(self._f, (cap, len(_FLOATS)))
            self._left = np.resize(self._left, cap)
            self._run = np.resize(self._run, cap)
            self._stride = np.resize(self._stride, cap)
        a, b = self._n, need
        self._f[a:b] = [[getattr(s, c) for c in _FLOATS] for s in steps]
        self._left[a:b] = [s.side == "L" for s in steps]
        self._run[a:b] = [s.activity == "run" for s in steps]
        self._stride[a:b] = [s.stride_index for s in steps]
        self._n = need

    def __len__(self) -> int:
        return self._n

    def _step(self, i: int) -> Step:
        v = self._f[i].tolist()
        d = dict(zip(_FLOATS, v))
        return Step(side="L" if self._left[i] else "R", activity="run" if self._run[i] else "walk",
                    stride_index=int(self._stride[i]), **d)

    def __getitem__(self, i):
        if isinstance(i, slice):
            out = StepTable(capacity=1)
            idx = range(self._n)[i]
            out._f, out._left = self._f[: self._n][i].copy(), self._left[: self._n][i].copy()
            out._run, out._stride = self._run[: self._n][i].copy(), self._stride[: self._n][i].copy()
            out._n = len(idx)
            return out
        n = self._n
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("step index out of range")
        return self._step(i)

    def __iter__(self):
        for i in range(self._n):
            yield self._step(i)

    def column(self, name: str) -> np.ndarray:
        """One contract column (``side`` as 'L'/'R', ``activity`` as 'run'/'walk' strings)."""
        n = self._n
        if name == "side":
            return np.where(self._left[:n], "L", "R")
        if name == "activity":
            return np.where(self._run[:n], "run", "walk")
        if name == "stride_index":
            return self._stride[:n].copy()
        return self._f[:n, _FLOATS.index(name)].copy()

    def __eq__(self, other) -> bool:
        return list(self) == list(other)
