"""Lab axes, rigid pelvis fit and pose filtering for the mocap simulator.

Frames (all right-handed):
- lab: as recorded (any axis may be up; detected from the data).
- world: x = heading of travel (horizontal), y = left, z = up (``lab_world``).
- anatomical pelvis frame P: x forward (mid-PSIS/SACR → mid-ASIS, orthogonalised), y left
  (R → L ASIS), z up; P(t) = R(t) P_ref with R(t) the rigid cluster rotation.

The rigid fit is a weighted least-squares (Söderkvist & Wedin 1993 / Kabsch) fit of a reference
marker cluster to each frame, with iteratively re-weighted outlier rejection (Tukey biweight on the
residual relative to each marker's own typical skin-motion residual).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, filtfilt
from scipy.spatial.transform import Rotation, Slerp

from gaitmon.sim.mocap_io import POSTERIOR_MARKERS, MocapTrial

# Base weights: skin motion of the ASIS and iliac-crest markers relative to the pelvis is 2–4×
# that of the posterior markers (README marker-quality table: 95th percentile 18–50 mm vs 6–22 mm),
# i.e. ~4–16× the variance; weight ∝ 1/variance, taken at the low end (0.25) so the anterior
# markers still define tilt, which the (nearly collinear) posterior markers cannot.
BASE_WEIGHT = {"LPSI": 1.0, "RPSI": 1.0, "SACR": 1.0, "P1": 1.0, "P2": 1.0, "P3": 1.0,
               "LASI": 0.25, "RASI": 0.25, "LILC": 0.25, "RILC": 0.25}
GAP_MARGIN = 3  # samples next to a marker gap are not used (gap edges are often displaced)


# ----------------------------------------------------------------------------- lab axes
@dataclass
class LabAxes:
    R_wl: np.ndarray  # world = R_wl @ lab
    up_lab: str  # e.g. '+Y'
    forward_lab: np.ndarray  # heading unit vector in lab coordinates
    kind: str  # 'overground' | 'treadmill' | 'static'
    speed_mps: float | None
    swapped_lr: bool
    notes: list[str] = field(default_factory=list)


def _axis_label(v: np.ndarray) -> str:
    k = int(np.argmax(np.abs(v)))
    return ("+" if v[k] > 0 else "-") + "XYZ"[k]


def _pelvis_centroid(tr: MocapTrial) -> np.ndarray:
    names = tr.pelvis_names()
    if len(names) < 3:
        raise ValueError(f"{tr.name}: need at least 3 pelvis markers (LASI/RASI/LPSI/RPSI/SACR/"
                         f"L.Iliac.Crest/...), found {names or 'none'}")
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(np.stack([tr.markers[m] for m in names]), axis=0)


def _nanmed(x, axis=0):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=axis)


def _pair(tr: MocapTrial, a: str, b: str):
    if a in tr.markers and b in tr.markers:
        return tr.markers[b] - tr.markers[a]
    return None


def _right_vec(tr: MocapTrial) -> np.ndarray:
    for a, b in (("LASI", "RASI"), ("LPSI", "RPSI"), ("LILC", "RILC"), ("P1", "P2")):
        d = _pair(tr, a, b)
        if d is not None and np.isfinite(d).any():
            return _nanmed(d)
    raise ValueError(f"{tr.name}: no left/right pelvis marker pair (LASI+RASI, LPSI+RPSI or the iliac crests)")


def _posterior(tr: MocapTrial) -> np.ndarray | None:
    if "LPSI" in tr.markers and "RPSI" in tr.markers:
        return 0.5 * (tr.markers["LPSI"] + tr.markers["RPSI"])
    if "SACR" in tr.markers:
        return tr.markers["SACR"]
    ps = [tr.markers[m] for m in POSTERIOR_MARKERS if m in tr.markers]
    return np.mean(ps, axis=0) if ps else None


def _anterior(tr: MocapTrial) -> np.ndarray | None:
    if "LASI" in tr.markers and "RASI" in tr.markers:
        return 0.5 * (tr.markers["LASI"] + tr.markers["RASI"])
    return None


def lab_axes(tr: MocapTrial) -> LabAxes:
    """Detect up (pelvis ~1 m above the feet), heading of travel and the subject's right.

    Heading: the pelvis velocity overground (net speed > 0.5 m/s); on a treadmill the opposite of
    the stance-foot velocity (feet near their lowest, moving with the belt); standing: the
    anatomical forward (ASIS ahead of PSIS/SACR). ``swapped_lr`` is True when the labelled right
    side (L→R ASIS) points to the subject's left in the right-handed frame built from heading and
    up — the labels are then mirrored as a whole (bmclab walk1) and the caller swaps them."""
    notes = []
    c = _pelvis_centroid(tr)
    feet = [tr.markers[m] for m in tr.markers if m[:2] in ("L_", "R_")]
    if feet:
        d = _nanmed(c) - _nanmed(np.concatenate(feet))
        k = int(np.argmax(np.abs(d)))
        if not 0.4 < abs(d[k]) < 2.0:
            raise ValueError(f"{tr.name}: cannot find the up axis (pelvis–feet distance {abs(d[k]):.2f} m, expected ~1 m)")
    else:
        d = _nanmed(c)
        k = int(np.argmax(np.abs(d)))
        notes.append("no foot markers: up = lab axis with the largest pelvis coordinate")
    up = np.zeros(3)
    up[k] = np.sign(d[k])

    def horiz(v):
        v = np.asarray(v, float) - (np.asarray(v, float) @ up) * up
        n = np.linalg.norm(v)
        return v / n if n > 1e-9 else None

    right_lab = horiz(_right_vec(tr))
    ant, post = _anterior(tr), _posterior(tr)
    fwd_anat = horiz(_nanmed(ant - post)) if ant is not None and post is not None else None
    if fwd_anat is None and right_lab is not None:
        fwd_anat = np.cross(up, right_lab)  # right-handed: right = fwd x up -> fwd = up x right
    t = tr.time
    ok = np.isfinite(c).all(axis=1)
    i0, i1 = np.argmax(ok), len(ok) - 1 - np.argmax(ok[::-1])
    vel = (c[i1] - c[i0]) / max(t[i1] - t[i0], 1e-9)
    vh = vel - (vel @ up) * up
    kind, speed = "static", None
    fwd = None
    if np.linalg.norm(vh) > 0.5:
        kind, speed, fwd = "overground", float(np.linalg.norm(vh)), horiz(vh)
    elif feet:
        # treadmill: horizontal velocity of the (forefoot) markers while near their lowest = belt
        vs = []
        fore = [tr.markers[m] for m in tr.markers if m[:7] in ("L_FORE:", "R_FORE:")]
        for f in (fore or feet):  # forefoot markers: flat on the belt longest
            h = f @ up
            lo = np.nanpercentile(h, 5)
            v = np.gradient(f, t, axis=0)
            sel = (h < lo + 0.01) & np.isfinite(v).all(axis=1)
            if sel.sum() > 5:
                vs.append(v[sel])
        if vs:
            vf = _nanmed(np.concatenate(vs))
            vf = vf - (vf @ up) * up
            if np.linalg.norm(vf) > 0.5:
                kind, speed, fwd = "treadmill", float(np.linalg.norm(vf)), horiz(-vf)
    if fwd is None:
        if fwd_anat is None:
            raise ValueError(f"{tr.name}: cannot find the forward direction")
        fwd = fwd_anat
    elif fwd_anat is not None and fwd @ fwd_anat < 0:
        notes.append("direction of travel opposite to the ASIS-ahead-of-PSIS direction (running backwards?)")
    left = np.cross(up, fwd)
    R_wl = np.vstack([fwd, left, up])
    swapped = bool(right_lab is not None and right_lab @ left > 0)
    if swapped:
        notes.append("labelled right side (L→R ASIS) points to the subject's left in the right-handed "
                     "heading/up frame: L/R labels treated as mirrored and swapped")
    return LabAxes(R_wl=R_wl, up_lab=_axis_label(up), forward_lab=fwd, kind=kind, speed_mps=speed,
                   swapped_lr=swapped, notes=notes)


# ----------------------------------------------------------------------------- rigid fit
def weighted_rigid_fit(ref: np.ndarray, X: np.ndarray, W: np.ndarray):
    """Weighted least-squares rigid transform per frame: X[t] ≈ R[t] @ ref + T[t].

    ref (m,3); X (n,m,3) (NaN allowed where W == 0); W (n,m) ≥ 0. Returns R (n,3,3), T (n,3);
    frames with fewer than 3 weighted markers get NaN."""
    X = np.where(np.isfinite(X), X, 0.0)
    W = np.where(np.isfinite(W), W, 0.0)
    sw = W.sum(axis=1)  # (n,)
    good = ((W > 1e-9).sum(axis=1) >= 3) & (sw > 0)
    sw_ = np.where(sw > 0, sw, 1.0)
    ca = (W @ ref) / sw_[:, None]  # (n,3)
    cb = np.einsum("nm,nmk->nk", W, X) / sw_[:, None]
    A = ref[None] - ca[:, None, :]
    B = X - cb[:, None, :]
    H = np.einsum("nm,nmi,nmj->nij", W, A, B)
    U, S, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.transpose(Vt, (0, 2, 1)) @ np.transpose(U, (0, 2, 1))))
    D = np.zeros((len(X), 3, 3))
    D[:, 0, 0] = 1
    D[:, 1, 1] = 1
    D[:, 2, 2] = d
    R = np.transpose(Vt, (0, 2, 1)) @ D @ np.transpose(U, (0, 2, 1))
    T = cb - np.einsum("nij,nj->ni", R, ca)
    # collinear / degenerate clusters: the 2nd singular value vanishes
    degen = S[:, 1] < 1e-10 * np.maximum(S[:, 0], 1e-30)
    bad = ~good | degen
    R[bad] = np.nan
    T[bad] = np.nan
    return R, T


def _temporal_jumps(E: np.ndarray, half: int = 4) -> np.ndarray:
    """|E(t) − running median of E over ±half samples| per marker (E: (n,m,3) residual vectors)."""
    from numpy.lib.stride_tricks import sliding_window_view
    import warnings

    n = E.shape[0]
    pad = np.concatenate([np.full((half,) + E.shape[1:], np.nan), E, np.full((half,) + E.shape[1:], np.nan)])
    win = sliding_window_view(pad, 2 * half + 1, axis=0)  # (n, m, 3, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(win, axis=-1)
    return np.linalg.norm(E - med, axis=2)


def robust_rigid_fit(ref: np.ndarray, X: np.ndarray, base_w: np.ndarray, iters: int = 2,
                     k: float = 8.0, floor_m: float = 0.003, jump_m: float = 0.012, hold: int = 15):
    """Rigid fit with outlier rejection and bridged marker drop-outs.

    1. Spikes: skin motion moves a marker relative to the pelvis smoothly, a mislabelled or badly
       reconstructed sample (a spike, a displaced gap edge) jumps. A sample whose fit residual
       vector departs from its own running median (±4 samples) by more than max(``jump_m``,
       5× that marker's robust jump scale) is rejected.
    2. Gross errors: a residual beyond ``k`` times the marker's typical (median) residual over the
       trial (at least ``floor_m``) is rejected too — wide on purpose, ordinary skin motion stays.
    3. Bridging: every marker carries 1–2 cm of skin motion, so the least-squares pose of a subset
       of the markers differs from that of the full set by up to a few degrees; fitting frames with
       a marker missing or rejected as they are would make the pose step at every drop-out. For
       each subset that occurs, the offset between the full-set pose and the subset pose is taken
       from the nearest frames on either side where all markers are good, interpolated across the
       drop-out and applied to the subset pose. Exact for rigid markers, continuous at the edges of
       every gap. Far from any full frame (long gaps, a marker lost to the end) the offset relaxes
       (time constant ``hold`` samples) to its median over the trial: the skin-motion difference
       depends on the gait phase, so an edge value held for seconds would bias the pose.

    Returns R (n,3,3), T (n,3), residuals (n,m) in m, and the weights actually used per sample
    (n,m) (0 = missing or rejected)."""
    import warnings

    n, m = X.shape[:2]
    present = np.isfinite(X).all(axis=2)
    W0 = np.where(present, base_w[None, :], 0.0)
    R, T = weighted_rigid_fit(ref, X, W0)
    if not np.isfinite(R).any():
        raise ValueError("the pelvis markers never form a non-degenerate cluster of 3 or more")
    good = present
    for _ in range(iters):
        E = X - (np.einsum("nij,mj->nmi", R, ref) + T[:, None, :])
        E = np.where(present[..., None], E, np.nan)
        J = _temporal_jumps(E)
        r = np.linalg.norm(E, axis=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            jscale = 1.4826 * np.nanmedian(J, axis=0)
            rscale = np.maximum(np.nanmedian(r, axis=0), floor_m)
        jscale = np.where(np.isfinite(jscale), jscale, 0.0)
        rscale = np.where(np.isfinite(rscale), rscale, floor_m)
        spike = np.nan_to_num(J, nan=0.0) > np.maximum(jump_m, 5 * jscale)[None, :]
        gross = np.nan_to_num(r, nan=0.0) > k * rscale[None, :]
        good = present & ~spike & ~gross
        R, T = _fit_keep(ref, X, np.where(good, base_w[None, :], 0.0), R, T)
    full = good.all(axis=1)
    if full.any() and not full.all():
        fi = np.nonzero(full)[0].astype(float)
        Rf, Tf = R[full], T[full]
        pats, inv = np.unique(good[~full], axis=0, return_inverse=True)
        rows = np.nonzero(~full)[0]
        for p_i, pat in enumerate(pats):
            if pat.sum() < 3:
                continue
            frames = rows[np.ravel(inv) == p_i]
            Rs, Ts = weighted_rigid_fit(ref, X, np.where(good & pat[None, :], base_w[None, :], 0.0))
            okf = np.isfinite(Rs[full]).all(axis=(1, 2))
            if not okf.any() or not np.isfinite(Rs[frames]).all():
                continue
            dR = Rf[okf] @ np.transpose(Rs[full][okf], (0, 2, 1))
            dT = Tf[okf] - np.einsum("nij,nj->ni", dR, Ts[full][okf])
            rv = Rotation.from_matrix(dR).as_rotvec()
            xi = fi[okf]
            rvi = np.stack([np.interp(frames, xi, rv[:, c]) for c in range(3)], axis=1)
            dTi = np.stack([np.interp(frames, xi, dT[:, c]) for c in range(3)], axis=1)
            dist = np.abs(frames[:, None] - xi[None, :]).min(axis=1) if len(xi) < 20000 else 0 * frames
            a = np.exp(-dist / max(hold, 1))[:, None]
            rvi = a * rvi + (1 - a) * np.median(rv, axis=0)[None, :]
            dTi = a * dTi + (1 - a) * np.median(dT, axis=0)[None, :]
            dRi = Rotation.from_rotvec(rvi).as_matrix()
            R[frames] = dRi @ Rs[frames]
            T[frames] = np.einsum("nij,nj->ni", dRi, Ts[frames]) + dTi
    res = np.linalg.norm(X - (np.einsum("nij,mj->nmi", R, ref) + T[:, None, :]), axis=2)
    return R, T, res, np.where(good, base_w[None, :], 0.0)


def _fit_keep(ref, X, W, R_old, T_old):
    R, T = weighted_rigid_fit(ref, X, W)
    fill = ~np.isfinite(R).all(axis=(1, 2))
    R[fill], T[fill] = R_old[fill], T_old[fill]
    return R, T


def reference_frame_index(X: np.ndarray) -> int:
    """Frame (all markers present) whose inter-marker distances are nearest the trial medians."""
    ok = np.isfinite(X).all(axis=(1, 2))
    if not ok.any():
        raise ValueError("no frame has all pelvis markers: cannot build the reference cluster")
    iu = np.triu_indices(X.shape[1], 1)
    D = np.linalg.norm(X[:, :, None, :] - X[:, None, :, :], axis=3)[:, iu[0], iu[1]]
    med = _nanmed(D[ok])
    score = np.where(ok, np.nansum(np.abs(D - med), axis=1), np.inf)
    return int(np.argmin(score))


def mask_gap_edges(X: np.ndarray, margin: int = GAP_MARGIN) -> np.ndarray:
    """NaN the ``margin`` samples either side of every gap (per marker)."""
    X = X.copy()
    for j in range(X.shape[1]):
        miss = ~np.isfinite(X[:, j]).all(axis=1)
        if not miss.any() or margin <= 0:
            continue
        grow = np.convolve(miss.astype(float), np.ones(2 * margin + 1), mode="same") > 0
        X[grow, j] = np.nan
    return X


# ----------------------------------------------------------------------------- anatomy
def anatomical_frame(names: list[str], ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Anatomical axes (columns x fwd, y left, z up) of the reference cluster and its posterior origin."""
    P = {n: ref[i] for i, n in enumerate(names)}
    right = None
    for a, b in (("LASI", "RASI"), ("LPSI", "RPSI"), ("LILC", "RILC"), ("P1", "P2")):
        if a in P and b in P:
            right = P[b] - P[a]
            break
    if right is None:
        raise ValueError("pelvis frame needs a left/right marker pair (LASI+RASI or LPSI+RPSI)")
    if "LPSI" in P and "RPSI" in P:
        post, kind = 0.5 * (P["LPSI"] + P["RPSI"]), "PSIS"
    elif "SACR" in P:
        post, kind = P["SACR"], "SACR"
    else:
        raise ValueError("pelvis frame needs a posterior marker (LPSI+RPSI or SACR)")
    if "LASI" in P and "RASI" in P:
        ant = 0.5 * (P["LASI"] + P["RASI"])
    else:
        raise ValueError("pelvis frame needs both ASIS markers (LASI, RASI) in the reference")
    y = -right / np.linalg.norm(right)
    x = ant - post
    x = x - (x @ y) * y
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    return np.column_stack([x, y, z]), post, kind


# ----------------------------------------------------------------------------- filtering
def butter_zero_phase(x: np.ndarray, fc: float, fs: float, axis: int = 0) -> np.ndarray:
    """2nd-order Butterworth run forward and backward (4th order, zero phase); the cut-off is
    corrected for the double pass (Winter 2009: fc / 0.802) so -3 dB lands at ``fc``."""
    wn = min(fc / 0.802 / (fs / 2.0), 0.99)
    b, a = butter(2, wn)
    return filtfilt(b, a, x, axis=axis, padtype="odd", padlen=min(3 * max(len(a), len(b)) * 10, x.shape[axis] - 1))


def residual_cutoff(x: np.ndarray, fs: float, fmin: float = 2.0) -> float:
    """Winter's residual analysis (Biomechanics and Motor Control of Human Movement, 2009, §3.4.4).

    R(fc) = RMS(x − filtered(x, fc)) for fc up to 0.45 fs; a line fitted to the high-frequency
    (noise-dominated, linear) part is extrapolated to fc = 0; the chosen cut-off is where R(fc)
    falls to that intercept (noise RMS)."""
    fmax = min(0.45 * fs, 60.0)
    fcs = np.arange(fmin, fmax, 0.5)
    R = np.array([np.sqrt(np.mean((x - butter_zero_phase(x, f, fs)) ** 2)) for f in fcs])
    hi = fcs >= 0.6 * fmax
    b, a = np.polyfit(fcs[hi], R[hi], 1)
    below = np.nonzero(R <= a)[0]
    return float(fcs[below[0]]) if len(below) else float(fcs[-1])


def quats_continuous(q: np.ndarray) -> np.ndarray:
    """Flip quaternion signs so consecutive quaternions lie in the same hemisphere."""
    q = q.copy()
    for i in range(1, len(q)):
        if q[i] @ q[i - 1] < 0:
            q[i] = -q[i]
    return q


def fill_pose_gaps(t: np.ndarray, R: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Interpolate frames without a pose (slerp / linear); returns the number of filled frames."""
    ok = np.isfinite(R).all(axis=(1, 2)) & np.isfinite(T).all(axis=1)
    nbad = int((~ok).sum())
    if ok.sum() < 2:
        raise ValueError("the pelvis pose could not be fitted in enough frames (fewer than 3 markers)")
    if nbad == 0:
        return R, T, 0
    tv = t[ok]
    ti = np.clip(t, tv[0], tv[-1])
    rot = Slerp(tv, Rotation.from_matrix(R[ok]))(ti).as_matrix()
    Tn = np.stack([np.interp(ti, tv, T[ok, k]) for k in range(3)], axis=1)
    return rot, Tn, nbad
