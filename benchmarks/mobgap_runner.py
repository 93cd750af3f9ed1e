"""Runs INSIDE the benchmark's own mobgap venv (``benchmarks/.venv-mobgap``, made by
``python -m benchmarks events``): ``python mobgap_runner.py in.npz out.json``.

Input npz: ``acc`` (n,3) m/s² and ``gyr`` (n,3) deg/s in mobgap's body frame (columns is = up,
ml = right, pa = forward), ``fs`` Hz, ``bouts`` (k,2) sample index [start, stop) of the gait
sequences to analyse. For each of IcdIonescu, IcdShinImproved (mobgap 1.2 defaults) it detects
ICs per bout (mobgap expects one gait sequence per call, as its pipeline passes them), then labels
them left/right with LrcMcCamley (default settings). Output JSON: per detector the IC sample
indices (recording coordinates), the labels, and the wall time of ICD + LRC over the recording.
Nothing of gaitmon is imported here (mobgap pins its own numpy/pandas/scipy).
"""

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

from mobgap.initial_contacts import IcdIonescu, IcdShinImproved  # noqa: E402
from mobgap.laterality import LrcMcCamley  # noqa: E402


def main(inp: str, out: str) -> None:
    z = np.load(inp)
    fs = float(z["fs"])
    df = pd.DataFrame(np.hstack([z["acc"], z["gyr"]]),
                      columns=["acc_is", "acc_ml", "acc_pa", "gyr_is", "gyr_ml", "gyr_pa"])
    res = {}
    for name, cls in (("IcdIonescu", IcdIonescu), ("IcdShinImproved", IcdShinImproved)):
        # one untimed call: imports / numba JIT inside mobgap are not charged to the recording
        a, b = z["bouts"][0]
        cls().detect(df.iloc[a:b].reset_index(drop=True), sampling_rate_hz=fs)
        ics, sides, errors = [], [], []
        t0 = time.perf_counter()
        for a, b in z["bouts"]:
            seg = df.iloc[int(a):int(b)].reset_index(drop=True)
            try:
                icd = cls().detect(seg, sampling_rate_hz=fs)
                ic = icd.ic_list_
                if len(ic) == 0:
                    continue
                lr = LrcMcCamley().predict(seg, ic, sampling_rate_hz=fs).ic_lr_list_
                ics += (lr["ic"].to_numpy(int) + int(a)).tolist()
                sides += ["L" if s == "left" else "R" for s in lr["lr_label"]]
            except Exception as e:  # reported, not hidden: a failing bout counts as no detections
                errors.append(f"bout {int(a)}-{int(b)}: {type(e).__name__}: {e}")
        res[name] = {"ic_idx": ics, "side": sides, "wall_s": time.perf_counter() - t0, "errors": errors}
    with open(out, "w") as fh:
        json.dump(res, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
