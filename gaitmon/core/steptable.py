"""Steps held as columns: ~120 bytes a step instead of ~450 for a list of :class:`Step` objects.

``gaitmon analyze`` of a day-long recording keeps every step (for the summary, the per-step file
and the database) — a full day of running is ~250,000 steps, ~30 MB as columns. A
:class:`StepTable` is a read-only sequence of ``Step``: iterating or indexing it builds the
``Step`` objects on the fly, so every consumer of a list of steps accepts it; :meth:`column`
gives a column as a numpy array without building any. The columns follow the ``Step`` fields
(float and int fields as numbers, str fields as small codes). Pure numpy, no I/O.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import fields

import numpy as np

from gaitmon.core.types import STEP_COLUMNS, Step

_FIELDS = [(f.name, str(f.type)) for f in fields(Step)]
_FLOATS = tuple(n for n, t in _FIELDS if t == "float")
_INTS = tuple(n for n, t in _FIELDS if t == "int")
_STRS = tuple(n for n, t in _FIELDS if t == "str")
assert len(_FLOATS) + len(_INTS) + len(_STRS) == len(_FIELDS), "Step field of another type"


def _getter(names):
    g = operator.attrgetter(*names)
    return g if len(names) > 1 else (lambda s: (g(s),))


_GET_F, _GET_I, _GET_S = _getter(_FLOATS), _getter(_INTS), _getter(_STRS)


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

    def _encode(self, steps: list) -> tuple[list, list, list]:
        """Rows of the float, int and code columns of ``steps``."""
        words = list(map(_GET_S, steps))
        codes = [[0] * len(_STRS) for _ in steps]
        for j in range(len(_STRS)):
            vocab = self._vocab[j]
            for row, w in zip(codes, words):
                c = vocab.get(w[j])
                row[j] = c if c is not None else self._code(j, w[j])
        return list(map(_GET_F, steps)), list(map(_GET_I, steps)), codes

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
        self._f[a:need], self._i[a:need], self._s[a:need] = self._encode(steps)
        self._n = need

    def revise(self, revised: Iterable[Step]) -> int:
        """Replace steps by their revised versions, matched by ``stride_index`` (the core's side
        revisions: a bout smoothed with its later evidence; the last version of a step counts).
        Returns how many rows were replaced."""
        revised = list(revised)
        if not revised:
            return 0
        n = self._n
        idx = self._i[:n, _INTS.index("stride_index")]
        want = np.array([r.stride_index for r in revised], np.int64)
        if n > 1 and not bool(np.all(idx[1:] > idx[:-1])):  # not in emission order: one by one
            rows = [np.nonzero(idx == w)[0] for w in want]
            pairs = [(k, j) for j, ks in enumerate(rows) for k in ks.tolist()]
        else:
            k = np.searchsorted(idx, want)
            ok = (k < n) & (idx[np.minimum(k, max(n - 1, 0))] == want) if n else np.zeros(len(want), bool)
            pairs = list(zip(k[ok].tolist(), np.nonzero(ok)[0].tolist()))
        if not pairs:
            return 0
        rows_k = np.array([p[0] for p in pairs])
        src = [revised[p[1]] for p in pairs]  # in order: a later revision of a step overwrites
        self._f[rows_k], self._i[rows_k], self._s[rows_k] = self._encode(src)
        return len(pairs)

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
        """One column as an array (numbers: a read-only view; str fields: an array of str)."""
        n = self._n
        if name in _FLOATS or name in _INTS:  # a read-only view: no copy of a day's column
            v = self._f[:n, _FLOATS.index(name)] if name in _FLOATS else self._i[:n, _INTS.index(name)]
            v = v.view()
            v.flags.writeable = False
            return v
        j = _STRS.index(name)
        words = np.array(self._words[j] or [""])
        return words[self._s[:n, j]]


def steps_to_array(steps: list[Step]) -> dict[str, np.ndarray]:
    """Column arrays (contract names) from a list of steps."""
    return {c: np.array([getattr(s, c) for s in steps]) for c in STEP_COLUMNS}
