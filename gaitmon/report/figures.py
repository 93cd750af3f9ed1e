"""The report's figures (matplotlib, Agg backend): each function returns PNG bytes.

Colours: left steps blue, right steps orange (colour-blind safe pair); low-quality steps grey.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

C = {"L": "#1f77b4", "R": "#ff7f0e"}
NAME = {"L": "left steps (standing on left leg)", "R": "right steps (standing on right leg)"}
DPI = 100


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def _rolling_median(y, k=21):
    if len(y) < 3:
        return y
    k = min(k, len(y) if len(y) % 2 else len(y) - 1)
    h = k // 2
    pad = np.pad(y, (h, h), mode="edge")
    return np.array([np.median(pad[i:i + k]) for i in range(len(y))])


def drop_over_time(d) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for s in ("L", "R"):
        m = d.good & (d.side == s)
        ax.plot(d.t_min[m], d.drop[m], ".", ms=3, alpha=0.45, color=C[s], label=NAME[s])
        if m.sum() >= 3:
            ax.plot(d.t_min[m], _rolling_median(d.drop[m]), "-", lw=2, color=C[s])
    bad = ~d.good
    if bad.any():
        ax.plot(d.t_min[bad], d.drop[bad], "x", ms=4, color="0.6", label="low-quality steps (not used)")
    ax.set_xlabel("time in session (min)")
    ax.set_ylabel("pelvic drop (°)")
    ax.set_title("Pelvic drop per step (line: running median of 21 steps)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def distributions(d) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    vals = d.drop[d.good]
    lo, hi = (np.nanmin(vals), np.nanmax(vals)) if len(vals) else (0, 1)
    bins = np.linspace(lo - 0.5, hi + 0.5, 30)
    for s in ("L", "R"):
        m = d.good & (d.side == s)
        if m.any():
            ax.hist(d.drop[m], bins=bins, alpha=0.5, color=C[s], label=f"{s}: mean {np.mean(d.drop[m]):.1f}°")
            ax.axvline(np.mean(d.drop[m]), color=C[s], lw=2)
    ax.set_xlabel("pelvic drop (°)")
    ax.set_ylabel("steps")
    ax.set_title("Distribution per side")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def asymmetry(d, asym) -> bytes:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4), gridspec_kw={"width_ratios": [1, 2]})
    for i, s in enumerate(("L", "R")):
        m = d.good & (d.side == s)
        if m.any():
            a1.bar(i, np.mean(d.drop[m]), color=C[s], alpha=0.8)
            a1.errorbar(i, np.mean(d.drop[m]), yerr=np.std(d.drop[m]), color="k", capsize=6)
    a1.set_xticks([0, 1], ["left", "right"])
    a1.set_ylabel("mean drop ± SD (°)")
    a1.set_title("Mean per side")
    a1.grid(alpha=0.3, axis="y")
    if asym["blocks_t_min"]:
        a2.axhline(0, color="0.5", lw=1)
        a2.plot(asym["blocks_t_min"], asym["blocks_diff"], "o-", color="#2ca02c")
        if asym["ci95"] is not None:
            a2.axhspan(asym["ci95"][0], asym["ci95"][1], color="#2ca02c", alpha=0.15, label="95 % CI of L−R")
            a2.legend(fontsize=8)
    a2.set_xlabel("time in session (min)")
    a2.set_ylabel("L − R (°)")
    a2.set_title("Asymmetry (left minus right) per 30 s")
    a2.grid(alpha=0.3)
    return _png(fig)


def drop_vs_cadence_speed(d, show_speed: bool) -> bytes:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for s in ("L", "R"):
        m = d.good & (d.side == s)
        axes[0].plot(d.cadence[m], d.drop[m], ".", ms=4, alpha=0.5, color=C[s], label=s)
        if show_speed:
            axes[1].plot(d.speed[m], d.drop[m], ".", ms=4, alpha=0.5, color=C[s], label=s)
        else:
            axes[1].plot(d.vo[m], d.drop[m], ".", ms=4, alpha=0.5, color=C[s], label=s)
    axes[0].set_xlabel("cadence (steps/min)")
    axes[0].set_title("Drop vs cadence")
    if show_speed:
        axes[1].set_xlabel("estimated speed (m/s) = cadence × step length")
        axes[1].set_title("Drop vs estimated speed")
    else:
        axes[1].set_xlabel("vertical oscillation (cm)")
        axes[1].set_title("Drop vs vertical oscillation")
    for ax in axes:
        ax.set_ylabel("pelvic drop (°)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _png(fig)


def drift(d, fatigue) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for s in ("L", "R"):
        m = d.good & (d.side == s)
        if not m.any():
            continue
        ax.plot(d.t_min[m], d.drop[m], ".", ms=2, alpha=0.25, color=C[s])
        sd = fatigue.sides.get(s)
        if sd is not None and sd.per_min.ci95 is not None:
            x = np.linspace(d.t_min[m].min(), d.t_min[m].max(), 50)
            y = sd.per_min.intercept + sd.per_min.slope * x
            lo, hi = sd.per_min.ci95
            xc = x - d.t_min[m].mean()
            ax.plot(x, y, "-", lw=2, color=C[s],
                    label=f"{s}: {sd.per_min.slope * 10:+.2f}°/10 min (95 % CI {lo * 10:+.2f} to {hi * 10:+.2f})"
                          + ("  ⚑ FLAGGED" if sd.flagged else ""))
            ax.fill_between(x, y + (lo - sd.per_min.slope) * xc, y + (hi - sd.per_min.slope) * xc,
                            color=C[s], alpha=0.15)
    ax.set_xlabel("time in session (min)")
    ax.set_ylabel("pelvic drop (°)")
    km = fatigue.distance_m / 1000.0
    ax.set_title(f"Drift over the session (fatigue) — about {km:.1f} km estimated")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left")
    else:
        ax.text(0.01, 0.97, "session too short for a drift estimate", transform=ax.transAxes, va="top", fontsize=8)
    return _png(fig)


def quality(d, min_quality: float) -> bytes:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    a1.hist(d.quality, bins=np.linspace(0, 1, 21), color="#7f7f7f")
    a1.axvline(min_quality, color="r", ls="--", label=f"used from {min_quality:g}")
    a1.set_xlabel("step quality (0..1)")
    a1.set_ylabel("steps")
    a1.legend(fontsize=8)
    a1.set_title("Step quality")
    a2.plot(d.t_min, d.quality, ".", ms=3, color="#7f7f7f")
    a2.axhline(min_quality, color="r", ls="--")
    a2.set_ylim(-0.05, 1.05)
    a2.set_xlabel("time in session (min)")
    a2.set_ylabel("quality")
    a2.set_title("Quality over the session")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    return _png(fig)


def previous_sessions(prev: list[dict], current: dict) -> bytes:
    """prev: [{'label': str, 'L': deg|None, 'R': deg|None}], oldest first; current likewise."""
    rows = prev + [current]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(9, 3.4))
    for s in ("L", "R"):
        y = np.array([r.get(s) if r.get(s) is not None else np.nan for r in rows], float)
        ax.plot(x, y, "o-", color=C[s], label=NAME[s])
        ax.plot(x[-1:], y[-1:], "o", ms=12, mfc="none", mec="k")
    ax.set_xticks(x, [r["label"] for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("mean pelvic drop (°)")
    ax.set_title("This session (circled) and your previous sessions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)
