"""Real walking: contacts and sides per person, with the default parameters ('tuned', chosen on
all people) and leave-one-person-out ('held out', parameters re-chosen on the other people).

    python -m benchmarks.real_walking            # tests/data + the L5 set if ../shared has it
    GAITMON_L5_DIR=/path/to/real-walking-l5 python -m benchmarks.real_walking

The L5 set (Voisard et al., IPOL 2023) is AGPL-3.0: it is read from its folder, never copied.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table


def main(argv=None) -> int:
    from tests.core.real_data import LOPO_GRID, leave_one_person_out

    con = Console(width=170)
    with con.status("analysing every trial for every grid point …") as st:
        res = leave_one_person_out(progress=lambda k, n: st.update(f"grid point {k}/{n}"))
    t = Table(title="Real walking, ±0.2 s one-to-one inside reference bouts: tuned | held out (LOPO)")
    for c in ("person", "ICs", "F1", "precision", "recall", "median |err| ms", "sides %", "wrong & sure %", "outside bouts"):
        t.add_column(c, justify="right")

    def row(name, d):
        a, b = d["tuned"], d["held_out"]
        t.add_row(name, str(a["n_ref"]), f"{a['f1']:.3f} | {b['f1']:.3f}", f"{a['precision']:.3f} | {b['precision']:.3f}",
                  f"{a['recall']:.3f} | {b['recall']:.3f}",
                  f"{a['median_abs_err_s'] * 1000:.0f} | {b['median_abs_err_s'] * 1000:.0f}",
                  f"{a['side_acc'] * 100:.1f} | {b['side_acc'] * 100:.1f}",
                  f"{a['confident_wrong'] * 100:.1f} | {b['confident_wrong'] * 100:.1f}", f"{a['n_outside']} | {b['n_outside']}")

    for p, d in res["per_person"].items():
        row(p, d)
    row("all", res)
    con.print(t)
    con.print("grid:", LOPO_GRID)
    for p, c in res["chosen"].items():
        con.print(f"  {p}: chosen on the others: {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
