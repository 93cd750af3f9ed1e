"""Real running kinematics (optical motion capture -> synthetic sacral IMU with force / foot-marker
truth, tests/data/real-running): per trial and sample rate, and pooled per runner.

    python -m benchmarks running

The running side cue and its parameters were fixed before these data were looked at (nothing is
tuned on them), so these figures are held out by construction.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table


def main(argv=None) -> int:
    from tests.core.real_running import is_sprint, pooled, runner_table

    con = Console(width=170)
    with con.status("synthesising and analysing …") as st:
        res = runner_table(progress=lambda k, n: st.update(f"recording {k}/{n}"))
    t = Table(title="Real running kinematics: per trial (±60 ms one-to-one, steady strides)")
    for c in ("trial", "Hz", "steps", "IC F1", "IC err ms", "sides %", "drop RMSE °", "bias L/R °", "truth SD °",
              "contact bias ms", "obl. range bias °"):
        t.add_column(c, justify="right")
    for tr, fs, m in res["rows"]:
        t.add_row(tr.trial + (" (sprint)" if is_sprint(tr) else ""), f"{fs:.0f}", str(m["n_ref"]), f"{m['f1']:.3f}",
                  f"{m['t_err_median_s'] * 1000:.0f}", f"{m['side_acc'] * 100:.1f}", f"{m['drop_rmse']:.2f}",
                  f"{m['bias_L']:+.2f}/{m['bias_R']:+.2f}", f"{m['truth_drop_sd']:.2f}",
                  f"{m['contact_bias_s'] * 1000:+.0f}", f"{m['obl_range_bias']:+.2f}")
    con.print(t)
    p = Table(title="Pooled per runner (all rates; the 9 m/s sprint apart)")
    for c in ("runner", "steps", "min IC F1", "sides %", "drop RMSE °", "bias L/R °", "contact bias ms"):
        p.add_column(c, justify="right")
    people = sorted({tr.person for tr, _, _ in res["rows"]})
    groups = [(q, [r for r in res["rows"] if r[0].person == q and not is_sprint(r[0])]) for q in people]
    groups.append(("all ≤ 7 m/s", [r for r in res["rows"] if not is_sprint(r[0])]))
    groups.append(("sprint 9 m/s", [r for r in res["rows"] if is_sprint(r[0])]))
    for name, rows in groups:
        if not rows:
            continue
        a = pooled(rows)
        p.add_row(name, str(a["n"]), f"{a['f1_min']:.3f}", f"{a['side_acc'] * 100:.1f}", f"{a['drop_rmse']:.2f}",
                  f"{a['bias_L']:+.2f}/{a['bias_R']:+.2f}", f"{a['contact_bias_s'] * 1000:+.0f}")
    con.print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
