"""Left/right: one decision per bout, from the whole bout's evidence, revised as evidence grows.

Inside a continuous bout the feet alternate, so the sides of all its steps are one binary choice.
The engine (`kernels._emit_step`) gives every step a piece of evidence — a log-likelihood ratio
(LLR) "this step is LEFT : RIGHT" — and the probability ``eps`` that the alternation is broken just
before it (a missed or extra contact hides behind an irregular, repaired or turning step). The
sides are the states of a two-state hidden Markov chain (L, R) whose transitions alternate with
probability 1 - eps:

- streaming: the engine runs the forward filter, so each step leaves with P(left | evidence so far)
  and a side that can only follow the bout's accumulated evidence (one odd step cannot flip it);
- when a bout ends (a stop, a long gap, the end of the recording) the whole bout is smoothed
  (forward-backward): early steps get the evidence of the later ones. Steps whose side changes are
  reported as revisions; the batch result is the smoothed one.

Evidence (what real sacral data say, measured per step with the reference sides):
- walking: the obliquity rises just after a LEFT contact (the swing side starts to drop) and the
  pelvis' yaw rate is negative at a LEFT contact (McCamley 2012). Real L5 walking of six people
  (Voisard 2023): 93-100 % of single steps right for the obliquity rate, 87-100 % for yaw; the
  Mobilise-D participant in tests/data is an exception for the obliquity rate (near chance), so
  both are summed (equal weight, degrees).
- running: the yaw-rate sign at contact and the medio-lateral acceleration are person-specific
  (Fukuchi vs Hamner runners), so only the drop pattern is used — the swing side is lower in
  early stance. A runner whose STANCE side drops would be mirrored: such sessions say where their
  sides came from (``side_source``) and, where a walking segment anchors the bout, disagreement
  between the walking and the running evidence is counted (``BoutSides.disagreements``).

Confidence (``side_confidence``, 0.5..1) is the posterior probability of the chosen side under
this model; it does not cover the mirrored-runner ambiguity, which ``side_source`` names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from numba import njit


@njit(cache=True)
def smooth_bout(llr, eps):
    """Forward-backward over one bout. llr: (n,) LLR left:right per step; eps: (n,) P(alternation
    broken before step k) (eps[0] unused). Returns (filtered, smoothed) P(left) per step."""
    n = llr.shape[0]
    filt = np.empty(n)
    sm = np.empty(n)
    pl = 0.5
    for k in range(n):
        if k > 0:
            pl = (1.0 - eps[k]) * (1.0 - pl) + eps[k] * pl
        el = math.exp(llr[k])
        pl = pl * el / (pl * el + 1.0 - pl)
        filt[k] = pl
    if n == 0:
        return filt, sm
    sm[n - 1] = filt[n - 1]
    for k in range(n - 2, -1, -1):
        e = eps[k + 1]
        fl = filt[k]
        pred_l = (1.0 - e) * (1.0 - fl) + e * fl  # P(step k+1 left | evidence to k)
        pred_r = 1.0 - pred_l
        nl = sm[k + 1]
        a = fl * (e * nl / pred_l + (1.0 - e) * (1.0 - nl) / pred_r)
        b = (1.0 - fl) * ((1.0 - e) * nl / pred_l + e * (1.0 - nl) / pred_r)
        sm[k] = a / (a + b)
    return filt, sm


@dataclass
class _Pending:
    step: object  # gaitmon.core.types.Step as emitted
    llr: float
    eps: float
    omax: float  # obliquity max / min over the step, deg (drop = omax for L, -omin for R)
    omin: float


@dataclass
class BoutSides:
    """Keeps the steps of the current bout; smooths a bout when it closes and reports revisions.

    ``revisions``: steps (as revised) whose side or confidence changed when their bout was
    smoothed, in the order they were decided; ``disagreements``: bouts where walking anchored the
    sides and the running steps' drop pattern said the opposite.
    """

    revisions: list = field(default_factory=list)
    disagreements: int = 0
    _bout: float = -1.0
    _pending: list = field(default_factory=list)

    def add(self, step, bout: float, llr: float, eps: float, omax: float, omin: float) -> list:
        """Register an emitted step; returns the revisions made by closing the previous bout."""
        out = []
        if bout != self._bout:
            out = self.close()
            self._bout = bout
        self._pending.append(_Pending(step, llr, eps, omax, omin))
        return out

    def close(self) -> list:
        """Smooth the current bout; return the steps whose side/confidence changed (revised)."""
        p = self._pending
        self._pending = []
        if not p:
            return []
        llr = np.array([x.llr for x in p])
        eps = np.array([x.eps for x in p])
        _, sm = smooth_bout(llr, eps)
        acts = {x.step.activity for x in p}
        src = "walk" if acts == {"walk"} else ("run" if acts == {"run"} else "walk+run")
        if src == "walk+run":
            # does the running steps' drop pattern agree with the sides the bout settled on?
            agree = sum(x.llr * (1.0 if sl > 0.5 else -1.0) for x, sl in zip(p, sm) if x.step.activity == "run")
            if agree < 0:
                self.disagreements += 1
        out = []
        for x, sl in zip(p, sm):
            side = "L" if sl > 0.5 else "R"
            conf = round(float(max(sl, 1.0 - sl)), 3)
            st = x.step
            s_src = src if src != "walk+run" else ("walk" if st.activity == "walk" else "run, anchored by walking")
            if side != st.side or conf != st.side_confidence or s_src != st.side_source:
                drop = x.omax if side == "L" else -x.omin
                out.append(replace(st, side=side, pelvic_drop_deg=drop, side_confidence=conf, side_source=s_src))
        self.revisions.extend(out)
        return out


def apply_revisions(steps: list, revisions: list) -> list:
    """Steps with their revised versions substituted (matched by ``stride_index``)."""
    if not revisions:
        return list(steps)
    by = {r.stride_index: r for r in revisions}
    return [by.get(s.stride_index, s) for s in steps]
