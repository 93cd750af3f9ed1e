"""Steps held as columns: ~120 bytes a step instead of ~450 for a list of :class:`Step` objects.

``gaitmon analyze`` of a day-long recording keeps every step (for the summary, the per-step file
and the database) — a full day of running is ~250,000 steps, ~30 MB as columns. A
:class:`StepTable` is a read-only sequence of ``Step``: iterating or indexing it builds the
``Step`` objects on the fly, so every consumer of a list of steps accepts it; :meth:`column`
gives a column as a numpy array without building any. The columns follow the ``Step`` fields
(float and int fields as numbers, str fields as small codes). Pure numpy, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields

import numpy as np

from gaitmon.core.types import Step

_FIELDS = [(f.name, str(f.type)) for f in fields(Step)]
_FLOATS = tuple(n for n, t in _FIELDS if t == "float")
_INTS = tuple(n for n, t in _FIELDS if t == "int")
_STRS = tuple(n for n, t in _FIELDS if t == "str")
assert len(_FLOATS) + len(_INTS) + len(_STRS) == len(_FIELDS), "Step field of another type"


class StepTable(Sequence):
    """Growable columnar store of steps (see module docstring)."""

    def __init__(self, steps: Iterable[Step] = (), capacity: int = 1024):
        self._n = 0
        self._f = np.empty((capacity, len(_FLOATS)))
        self._i = np.empty((capacity, len(_INTS)), np.int64)
        self._s = np.empty((capacity, len(_STRS)), np.int16)
        self._vocab: list[dict[str, int]] = [{} for _ in _STRS]
        self._words: list[list[str]] = [[] for _ in _STRS]
        self.extend(steps)

    def _code(self, j: int, word: str) -> int:
        code = self._vocab[j].get(word)
        if code is None:
            code = self._vocab[j][word] = len(self._words[j])
            self._words[j].append(word)
        return code

    def extend(self, steps: Iterable[Step]) -> None:
        steps = list(steps)
        if not steps:
            return
        need = self._n + len(steps)
        if need > len(self._f):
            cap = max(need, len(self._f) + len(self._f) // 2)
            self._f = np.resize(self._f, (cap, len(_FLOATS)))
            self._i = np.resize(self._i, (cap, len(_INTS)))
            self._s = np.resize(self._s, (cap, len(_STRS)))
        a = self._n
        self._f[a:need] = [[getattr(s, c) for c in _FLOATS] for s in steps]
        self._i[a:need] = [[getattr(s, c) for c in _INTS] for s in steps]
        self._s[a:need] = [[self._code(j, getattr(s, c)) for j, c in enumerate(_STRS)] for s in steps]
        self._n = need

    def revise(self, revised: Iterable[Step]) -> int:
        """Replace steps by their revised versions, matched by ``stride_index`` (the core's side
        revisions: a bout smoothed with its later evidence). Returns how many were replaced."""
        revised = list(revised)
        if not revised:
            return 0
        idx = self._i[: self._n, _INTS.index("stride_index")]
        sorted_ = bool(np.all(idx[1:] > idx[:-1]))
        done = 0
        for r in revised:
            if sorted_:
                k = int(np.searchsorted(idx, r.stride_index))
                rows = [k] if k < self._n and idx[k] == r.stride_index else []
            else:
                rows = np.nonzero(idx == r.stride_index)[0].tolist()
            for k in rows:
                self._f[k] = [getattr(r, c) for c in _FLOATS]
                self._i[k] = [getattr(r, c) for c in _INTS]
                self._s[k] = [self._code(j, getattr(r, c)) for j, c in enumerate(_STRS)]
                done += 1
        return done

    def __len__(self) -> int:
        return self._n

    def _step(self, i: int) -> Step:
        d = dict(zip(_FLOATS, self._f[i].tolist()))
        d.update(zip(_INTS, self._i[i].tolist()))
        d.update((c, self._words[j][k]) for j, (c, k) in enumerate(zip(_STRS, self._s[i].tolist())))
        return Step(**d)

    def __getitem__(self, i):
        if isinstance(i, slice):
            out = StepTable(capacity=1)
            n = self._n
            out._f, out._i, out._s = self._f[:n][i].copy(), self._i[:n][i].copy(), self._s[:n][i].copy()
            out._vocab, out._words = self._vocab, self._words  # shared: codes only ever grow
            out._n = len(out._f)
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
        """One column as an array (str fields as arrays of str)."""
        n = self._n
        if name in _FLOATS:
            return self._f[:n, _FLOATS.index(name)].copy()
        if name in _INTS:
            return self._i[:n, _INTS.index(name)].copy()
        j = _STRS.index(name)
        words = np.array(self._words[j] or [""])
        return words[self._s[:n, j]]
