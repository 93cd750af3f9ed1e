"""The motion-capture trials in tests/data/real-running, their static trials and IC reference —
for accuracy evaluations of the core on `simulate_from_mocap` recordings.

    from tests.sim.mocap_trials import TRIALS, simulate_trial
    rec = simulate_trial("hamner2013/s04_run300", fs=104, seed=1)
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "real-running"

# name -> (static trial or None, IC reference, activity)
TRIALS: dict[str, tuple[str | None, str, str]] = {
    "hamner2013/s04_run200": (None, "force R/L", "run"),
    "hamner2013/s04_run300": (None, "force R/L", "run"),
    "hamner2013/s04_run400": (None, "force R/L", "run"),
    "hamner2013/s04_run500": (None, "force R/L", "run"),
    "hamner2013/s01_run200": (None, "force plates 1/2 (side by COP)", "run"),
    "hamner2013/s01_run300": (None, "force plates 1/2 (side by COP)", "run"),
    "dorn2012/ja1_run0350": ("dorn2012/ja1_static", "foot markers", "run"),
    "dorn2012/ja1_run0500": ("dorn2012/ja1_static", "foot markers", "run"),
    "dorn2012/ja1_run0700": ("dorn2012/ja1_static", "foot markers", "run"),
    "dorn2012/ja1_run0900": ("dorn2012/ja1_static", "foot markers", "run"),
    "fukuchi2017/rbds0041_runT25": ("fukuchi2017/rbds0041_static", "force (one plate, side by COP)", "run"),
    "fukuchi2017/rbds0041_runT35": ("fukuchi2017/rbds0041_static", "foot markers", "run"),
    "fukuchi2017/rbds0041_runT45": ("fukuchi2017/rbds0041_static", "foot markers", "run"),
    "fukuchi2017/rbds032_runT35": ("fukuchi2017/rbds032_static", "foot markers", "run"),
    "bmclab/walk1": (None, "force plates (labels swapped)", "walk"),
    "bmclab/walk2": (None, "force plates", "walk"),
    "bmclab/run": (None, "force R/L + foot markers", "run"),
}


def trial_files(name: str) -> tuple[Path, Path | None]:
    """Markers file and static markers file (or None) of a bundled trial."""
    static = TRIALS[name][0]
    return DATA / f"{name}_markers.csv.gz", (DATA / f"{static}_markers.csv.gz" if static else None)


def simulate_trial(name: str, fs: float = 104.0, seed: int = 1, **kwargs):
    """``simulate_from_mocap`` on a bundled trial with its static trial (if any)."""
    from gaitmon.sim import simulate_from_mocap

    markers, static = trial_files(name)
    return simulate_from_mocap(markers, fs=fs, seed=seed, static=static, **kwargs)
