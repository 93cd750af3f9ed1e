"""The session summary in the terminal (``gaitmon analyze``, ``gaitmon demo``): pure rendering."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

__all__ = ["print_summary"]


def print_summary(console, s: dict) -> None:
    """The session summary (:func:`gaitmon.core.summary.summarize`) on ``console``: per-side table,
    cadence/contact/oscillation line, rejected input, where the sides came from, notes."""
    ev = s.get("side_evidence") or {}
    title = "pelvic drop per side (deg)"
    if ev and not ev.get("certain", True):
        title += " — SIDES UNCERTAIN"
    t = Table(title=title, show_lines=False)
    for c in ("side", "steps", "mean", "SD", "p10", "median", "p90", "drift deg/min"):
        t.add_column(c, justify="right")
    for side in ("L", "R"):
        d = s["sides"].get(side, {})
        if not d.get("n"):
            t.add_row(side, "0", "", "", "", "", "", "")
            continue
        dr = d["drift"]["deg_per_min"]
        t.add_row(side, str(d["n"]), f"{d['drop_mean_deg']:.1f}", f"{d['drop_sd_deg'] or 0:.1f}",
                  f"{d['drop_p10_deg']:.1f}", f"{d['drop_median_deg']:.1f}", f"{d['drop_p90_deg']:.1f}",
                  "" if dr is None else f"{dr:+.2f}")
    console.print(t)
    bits = []
    if s.get("asymmetry_l_minus_r_deg") is not None:
        bits.append(f"L−R asymmetry {s['asymmetry_l_minus_r_deg']:+.1f}°")
    if s.get("cadence_spm"):
        bits.append(f"cadence {s['cadence_spm']:.0f} steps/min")
    if s.get("contact_time_s"):
        bits.append(f"contact {s['contact_time_s'] * 1000:.0f} ms")
    if s.get("vertical_oscillation_cm") is not None:
        bits.append(f"vertical oscillation {s['vertical_oscillation_cm']:.1f} cm")
    bits.append(f"{s['steps_rejected']} low-quality steps not summarised")
    console.print(" · ".join(bits))
    inp = s.get("input") or {}
    rej = {k: v for k, v in inp.items() if k in ("nan_rows", "non_monotonic", "implausible", "saturated", "gap_count",
                                                   "unparseable_rows") and v}
    if rej:
        console.print("input rejected/flagged: " + ", ".join(f"{k}={v}" for k, v in rej.items()))
    if ev.get("source"):
        src = ", ".join(f"{k} {v}" for k, v in ev["source"].items())
        conf = ev.get("confidence_median")
        console.print(f"sides from: {src}" + (f" · median confidence {conf:.2f}" if conf is not None else ""))
    if ev.get("note"):
        console.print(f"[yellow]sides:[/] {escape(ev['note'])}")
    if s.get("side_disagreements"):
        console.print(f"[yellow]sides:[/] in {s['side_disagreements']} bout(s) the walking and the running evidence "
                      "disagree (a missed contact, or a stance side that drops): check those steps")
    _print_run_pattern(console, s.get("run_pattern") or {})
    if s.get("note"):
        console.print(f"[yellow]note:[/] {escape(str(s['note']))}")


def _print_run_pattern(console, rp: dict) -> None:
    """What this runner's running drop pattern is known to be (runs that started with a walk)."""
    learned = rp.get("learned")
    here = rp.get("this_session") or {}
    if learned:
        n = learned["usual"] + learned["reversed"]
        p = learned["p_reversed"]
        what = ("the stance side drops" if p > 0.5 else "the swing side drops")
        sure = "sure" if max(p, 1 - p) >= 0.9 else "not sure yet"
        console.print(f"sides without a walk: read with this runner's drop pattern from {n} earlier run(s) that started "
                      f"with a walk — {what} ({sure}, P {max(p, 1 - p):.2f})")
    if here.get("usual") or here.get("reversed"):
        console.print(f"runs anchored by a walk this session: {here.get('usual', 0)} with the swing side dropping, "
                      f"{here.get('reversed', 0)} with the stance side dropping (kept for this runner's next runs)")
