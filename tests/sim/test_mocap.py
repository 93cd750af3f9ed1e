"""The motion-capture path of the simulator: readers, rigid pelvis fit, IMU synthesis, truth, CLI.

Data: tests/data/real-running (Hamner 2013, Dorn 2012, Fukuchi 2017, BMClab; see its README)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from gaitmon.cli import EXIT_BAD_INPUT, EXIT_OK, main
from gaitmon.sim.mocap import MocapConfig, simulate_from_mocap, synthesize
from gaitmon.sim.mocap_events import force_contacts, foot_marker_contacts, match_timing
from gaitmon.sim.mocap_io import load_trial, read_c3d, read_trc, write_c3d, write_trc
from gaitmon.sim.mocap_pelvis import lab_axes, robust_rigid_fit
from gaitmon.sim.model import G
from gaitmon.sources.recording import read_recording
from tests.core.metrics import evaluate_sim

DATA = Path(__file__).resolve().parents[1] / "data" / "real-running"


def trial_path(name: str) -> Path:
    return DATA / f"{name}_markers.csv.gz"


# ----------------------------------------------------------------------------- readers
def test_shared_csv_reader_markers_forces_gaps():
    t = load_trial(trial_path("hamner2013/s04_run200"))
    assert len(t.time) == 237 and t.fs == pytest.approx(100.0)
    assert {"LASI", "RASI", "LPSI", "RPSI"} <= set(t.markers)
    assert t.forces is not None and t.forces.side == {"R": "R", "L": "L"}
    assert len(t.forces.time) == 4750  # 2000 Hz siblings found automatically
    assert t.markers["LASI"][0] == pytest.approx([1.240618, 1.045489, -0.448853])
    # Fukuchi names (L.ASIS, R.Iliac.Crest...) map to the canonical set; gaps are NaN
    f = load_trial(trial_path("fukuchi2017/rbds0041_runT45"))
    assert {"LASI", "RASI", "LPSI", "RPSI", "LILC", "RILC"} <= set(f.markers)
    assert f.source_names["RASI"] == "R.ASIS"
    assert int(np.isnan(f.markers["RASI"][:, 0]).sum()) == 228  # README gap table
    assert f.fs == pytest.approx(150.0)


def test_trc_roundtrip_with_gap_and_mm(tmp_path):
    t = load_trial(trial_path("dorn2012/ja1_run0900"))
    t.markers["LASI"][20:24] = np.nan
    p = tmp_path / "trial.trc"
    write_trc(t, p, units="mm")
    assert "\tmm\t" in p.read_text().splitlines()[2]
    b = read_trc(p)
    assert b.units_in_file == "mm" and set(b.markers) == set(t.markers)
    np.testing.assert_allclose(b.time, t.time, atol=1e-9)
    for m in t.markers:
        np.testing.assert_allclose(b.markers[m], t.markers[m], atol=1e-8, equal_nan=True)
    assert np.isnan(b.markers["LASI"][20:24]).all() and np.isfinite(b.markers["LASI"][24]).all()


def test_c3d_roundtrip(tmp_path):
    t = load_trial(trial_path("hamner2013/s01_run200"))
    t.markers["RPSI"][5:7] = np.nan
    p = tmp_path / "trial.c3d"
    write_c3d(t, p)
    b = read_c3d(p)
    assert set(b.markers) == set(t.markers) and b.units_in_file == "mm"
    assert b.fs == pytest.approx(100.0) and b.time[0] == pytest.approx(t.time[0])
    for m in t.markers:
        np.testing.assert_allclose(b.markers[m], t.markers[m], atol=1e-6, equal_nan=True)  # float32 mm
    assert np.isnan(b.markers["RPSI"][5:7]).all()
    # and the C3D runs through the simulator (forces given separately)
    rec = synthesize(load_trial(p, forces=DATA / "hamner2013/s01_run200_grf.csv.gz"), MocapConfig(fs=100, min_gait_s=5))
    assert rec.info["ic_sources"] == ["force"]


def test_c3d_force_platforms_give_the_same_contacts(tmp_path):
    # per-foot GRF written as two C3D force platforms (no side labels in C3D): same ICs, sides from
    # the lower foot at mid-contact
    t = load_trial(trial_path("hamner2013/s04_run300"))
    p = tmp_path / "withforces.c3d"
    write_c3d(t, p, forces=True)
    b = read_c3d(p)
    assert b.forces is not None and list(b.forces.fy) == ["plate1", "plate2"]
    ref = force_contacts(t, lab_axes(t).R_wl)
    got = force_contacts(b, lab_axes(b).R_wl)
    assert [c.side for c in got] == [c.side for c in ref] == list("RLRLRL")
    np.testing.assert_allclose([c.t_ic for c in got], [c.t_ic for c in ref], atol=1e-3)
    rec = synthesize(b, MocapConfig(fs=104, min_gait_s=5))
    assert rec.info["ic_sources"] == ["force"]


def test_missing_marker_named(tmp_path):
    t = load_trial(trial_path("hamner2013/s04_run400"))
    del t.markers["RASI"]
    with pytest.raises(ValueError, match="RASI"):
        synthesize(t, MocapConfig(min_gait_s=0))
    t = load_trial(trial_path("hamner2013/s04_run400"))
    del t.markers["LPSI"]
    with pytest.raises(ValueError, match="LPSI"):
        synthesize(t, MocapConfig(min_gait_s=0))


def test_lab_axes_and_mirrored_labels():
    for name, kind in (("hamner2013/s04_run300", "treadmill"), ("dorn2012/ja1_run0500", "overground"),
                       ("fukuchi2017/rbds0041_runT35", "treadmill"), ("bmclab/walk2", "overground")):
        ax = lab_axes(load_trial(trial_path(name)))
        assert ax.up_lab == "+Y" and ax.kind == kind and not ax.swapped_lr, name
        assert ax.forward_lab[0] > 0.99, name  # travel / faces +X
    ax = lab_axes(load_trial(trial_path("bmclab/walk1")))
    assert ax.swapped_lr  # R.* markers on -Z while facing +X with +Y up


# ----------------------------------------------------------------------------- rigid fit
def _cluster():
    return np.array([[0.1, 0.12, 0.0], [0.1, -0.12, 0.0], [-0.08, 0.05, 0.03], [-0.08, -0.05, 0.03],
                     [0.0, 0.14, 0.06], [0.0, -0.14, 0.06]])


def test_rigid_fit_exact_and_robust():
    rng = np.random.default_rng(0)
    ref = _cluster()
    n = 200
    rot = Rotation.from_rotvec(rng.normal(0, 0.3, (n, 3)))
    T = rng.normal(0, 1, (n, 3))
    X = np.einsum("nij,mj->nmi", rot.as_matrix(), ref) + T[:, None, :]
    w = np.array([0.25, 0.25, 1, 1, 0.25, 0.25])
    R, Tf, res, W = robust_rigid_fit(ref, X, w)
    assert np.abs(R - rot.as_matrix()).max() < 1e-9 and np.abs(Tf - T).max() < 1e-9
    # one marker dropped for a stretch, another spiked by 4 cm in one frame
    X2 = X.copy()
    X2[50:80, 1] = np.nan
    X2[120, 0] += [0.0, 0.04, 0.0]
    R2, T2, _, W2 = robust_rigid_fit(ref, X2, w)
    ang = np.degrees((Rotation.from_matrix(R2) * rot.inv()).magnitude())
    assert ang.max() < 1e-6 and np.abs(T2 - T).max() < 1e-8
    assert W2[120, 0] == 0.0 and (W2[50:80, 1] == 0).all()


def test_real_spike_and_gap_edge_do_not_leak():
    # dorn2012 ja1_run0700: LASI jumps by ~4 cm for one sample at t = 0.688 s
    t = load_trial(trial_path("dorn2012/ja1_run0700"))
    ax = lab_axes(t)
    names = t.pelvis_names()
    X = np.stack([t.markers[m] @ ax.R_wl.T for m in names], axis=1)
    from gaitmon.sim.mocap_pelvis import BASE_WEIGHT, reference_frame_index

    ref = X[reference_frame_index(X)]
    R, T, res, W = robust_rigid_fit(ref, X, np.array([BASE_WEIGHT[m] for m in names]))
    i = int(np.argmin(np.abs(t.time - 0.688)))
    j = names.index("LASI")
    assert W[i - 1:i + 2, j].min() == 0.0
    # the fitted pose does not jump at the spike: orientation step there like its neighbours
    steps = np.degrees((Rotation.from_matrix(R[1:]).inv() * Rotation.from_matrix(R[:-1])).magnitude())
    assert steps[i - 2:i + 2].max() < 3 * np.median(steps[i - 20:i + 20]) + 0.05
    # rbds0041_runT45: R.ASIS gap to the end, its last samples displaced: no jump in the pose there
    rec = simulate_from_mocap(trial_path("fukuchi2017/rbds0041_runT45"), fs=200, min_gait_s=0, noise=False,
                              mount_error_deg=0)
    gyr = np.linalg.norm(rec.gyr, axis=1)
    assert gyr.max() < 8.0


# ----------------------------------------------------------------------------- synthesis
@pytest.fixture(scope="module")
def hamner_clean():
    return simulate_from_mocap(trial_path("hamner2013/s04_run300"), fs=1000, seed=4, noise=False)


def test_rest_reads_gravity_and_no_rotation(hamner_clean):
    rec = hamner_clean
    rest = (rec.time > 0.2) & (rec.time < rec.info["timeline_s"]["standing"][1] - 0.2)
    np.testing.assert_allclose(np.linalg.norm(rec.acc[rest], axis=1), G, atol=1e-9)
    assert np.abs(rec.gyr[rest]).max() < 1e-9
    # the nominal up axis reads ~+g within the mount error (≤ 25° per axis)
    up = np.array([0, 1.0, 0])
    assert rec.acc[rest][0] @ up > G * np.cos(np.radians(45))
    # with sensor noise: mean |f| still g, gyro ~0
    noisy = simulate_from_mocap(trial_path("hamner2013/s04_run300"), fs=104, seed=4)
    r = (noisy.time > 0.2) & (noisy.time < 4.8)
    assert abs(np.linalg.norm(noisy.acc[r].mean(axis=0)) - G) < 0.2
    assert np.abs(noisy.gyr[r].mean(axis=0)).max() < 0.04


def test_gyro_integration_reproduces_truth_orientation(hamner_clean):
    rec = hamner_clean
    R_sp = rec.truth.mount_R_sp
    dt = np.diff(rec.time)
    q_true = Rotation.from_quat(rec.fine_q_ws)
    i0 = int(np.searchsorted(rec.time, 3.0))
    i1 = int(np.searchsorted(rec.time, 12.0))  # through the transition into 5+ s of looped gait
    R = q_true[int(np.searchsorted(rec.fine_t, rec.time[i0]))]
    for i in range(i0, i1):
        R = R * Rotation.from_rotvec(0.5 * (rec.gyr[i] + rec.gyr[i + 1]) * dt[i])
    j = int(np.searchsorted(rec.fine_t, rec.time[i1]))
    err = np.degrees((q_true[j].inv() * R).magnitude())
    assert err < 0.5, err
    # the integrated pelvis orientation gives the truth obliquity/tilt/rotation
    B = R * Rotation.from_matrix(R_sp).inv()
    yaw, pitch, roll = np.degrees(B.as_euler("ZYX"))
    assert abs(roll - rec.fine_euler_deg[j, 2]) < 0.5 and abs(pitch - rec.fine_euler_deg[j, 1]) < 0.5


def test_specific_force_matches_kinematics(hamner_clean):
    # mean specific force over whole loops of gait = gravity (no net velocity change)
    rec = hamner_clean
    g0, g1 = rec.info["timeline_s"]["gait"]
    sel = (rec.fine_t >= g0) & (rec.fine_t < g1)
    Rws = Rotation.from_quat(rec.fine_q_ws[sel])
    t = rec.fine_t[sel]
    f_w = Rws.apply(np.stack([np.interp(t, rec.time, rec.acc[:, k]) for k in range(3)], axis=1))
    np.testing.assert_allclose(f_w.mean(axis=0), [0, 0, G], atol=0.05)


@pytest.mark.parametrize("fs", [52.0, 104.0, 200.0, 1000.0])
def test_sample_rates_and_evaluate_sim(fs):
    rec = simulate_from_mocap(trial_path("hamner2013/s04_run400"), fs=fs, seed=2)
    assert np.median(np.diff(rec.time)) == pytest.approx(1.0 / fs, rel=1e-3)
    # the truth plugs into the core's evaluation helper unchanged (here: perfect "detections")
    class S:  # minimal step record
        def __init__(self, t, side, drop, st):
            self.t_ic_s, self.side, self.pelvic_drop_deg, self.step_time_s = t, side, drop, st

    tr = rec.truth
    steps = [S(t, s, d, st) for t, s, d, st in zip(tr.ic_t, tr.side, tr.pelvic_drop_deg, tr.step_time_s)]
    m = evaluate_sim(rec, steps)
    assert m["f1"] == 1.0 and m["drop_rmse"] == 0.0 and m["side_acc"] == 1.0


def test_looping_and_truth_records():
    rec = simulate_from_mocap(trial_path("hamner2013/s04_run200"), fs=104, seed=1, min_gait_s=20)
    g0, g1 = rec.info["timeline_s"]["gait"]
    assert g1 - g0 >= 20.0 and rec.info["loop"]["copies"] >= 10
    assert rec.info["loop"]["block_side"] == "R"
    st = rec.steps
    sides = [s["side"] for s in st]
    assert all(a != b for a, b in zip(sides, sides[1:]))  # alternating
    # the same source step in two copies has (nearly) the same truth
    by = {}
    for s in st:
        if s["steady"]:
            by.setdefault(s["source_step"], []).append(s["pelvic_drop_deg"])
    assert len(by) == 4  # two strides of the block = 4 steps
    for k, v in by.items():
        assert np.ptp(v[1:-1]) < 0.3, (k, v)
    # the truth definition: left step drop = max obliquity over [IC, next IC]
    s = next(x for x in st if x["steady"] and x["side"] == "L")
    a = np.searchsorted(rec.fine_t, s["t_ic_s"])
    b = np.searchsorted(rec.fine_t, s["t_ic_s"] + s["step_time_s"])
    assert rec.fine_euler_deg[a:b + 1, 2].max() == pytest.approx(s["pelvic_drop_deg"], abs=0.05)
    keys = {"t_ic_s", "side", "pelvic_drop_deg", "obliquity_range_deg", "tilt_range_deg", "rotation_range_deg",
            "contact_time_s", "step_time_s", "ic_source"}
    assert keys <= set(st[0])
    assert 0.15 < np.nanmedian([x["contact_time_s"] for x in st]) < 0.35
    no_loop = simulate_from_mocap(trial_path("hamner2013/s04_run200"), fs=104, seed=1, min_gait_s=0)
    assert no_loop.info["loop"]["copies"] == 1


def test_mount_seeded():
    a = simulate_from_mocap(trial_path("bmclab/run"), fs=100, seed=5, min_gait_s=3)
    b = simulate_from_mocap(trial_path("bmclab/run"), fs=100, seed=5, min_gait_s=3)
    c = simulate_from_mocap(trial_path("bmclab/run"), fs=100, seed=6, min_gait_s=3)
    np.testing.assert_array_equal(a.acc, b.acc)
    assert not np.allclose(a.truth.mount_R_sp, c.truth.mount_R_sp)
    err = a.info["mount"]["error_euler_xyz_deg"]
    assert max(abs(x) for x in err) <= 25.0
    p = simulate_from_mocap(trial_path("bmclab/run"), fs=100, seed=5, min_gait_s=3, mount_error_deg=0)
    from gaitmon.sim.model import nominal_mount

    np.testing.assert_allclose(p.truth.mount_R_sp, nominal_mount("-z", "+y"), atol=1e-12)


# ----------------------------------------------------------------------------- truth events
@pytest.mark.parametrize("name", ["s04_run200", "s04_run300", "s04_run400", "s04_run500", "s01_run200", "s01_run300"])
def test_hamner_force_contacts_3R_3L(name):
    t = load_trial(trial_path(f"hamner2013/{name}"))
    c = [x for x in force_contacts(t, lab_axes(t).R_wl) if np.isfinite(x.t_ic)]
    assert "".join(x.side for x in c) == "RLRLRL"  # s01: plate 1 = right, by COP (README)


def test_fukuchi_t25_79_alternating_contacts():
    t = load_trial(trial_path("fukuchi2017/rbds0041_runT25"))
    c = force_contacts(t, lab_axes(t).R_wl)
    assert len(c) == 79 and np.isnan(c[0].t_ic)  # the first one already under way at t = 0
    s = "".join(x.side for x in c)
    assert s.count("R") == 40 and s.count("L") == 39
    assert all(a != b for a, b in zip(s, s[1:]))


@pytest.mark.parametrize("name,sides", [("walk1", "RLRL"), ("walk2", "RLRL"), ("run", "RL")])
def test_bmclab_plate_contacts(name, sides):
    t = load_trial(trial_path(f"bmclab/{name}"))
    ax = lab_axes(t)
    if ax.swapped_lr:  # walk1: labels mirrored as a whole; plate 6 carries the (true) right foot
        t.swap_sides()
    c = force_contacts(t, ax.R_wl)
    assert "".join(x.side for x in c) == sides
    assert c[0].t_ic == pytest.approx({"walk1": 0.213, "walk2": 0.047, "run": 0.057}[name], abs=0.003)


FOOT_IC_TOL_S = 0.025  # every matched IC; the mean |error| must stay under 10 ms


def test_foot_marker_ics_agree_with_forces():
    errs = []
    for name in ("hamner2013/s04_run200", "hamner2013/s04_run300", "hamner2013/s04_run400",
                 "hamner2013/s04_run500", "hamner2013/s01_run200", "hamner2013/s01_run300",
                 "fukuchi2017/rbds0041_runT25", "bmclab/run", "bmclab/walk1", "bmclab/walk2"):
        t = load_trial(trial_path(name))
        ax = lab_axes(t)
        if ax.swapped_lr:
            t.swap_sides()
        fc = force_contacts(t, ax.R_wl)
        m = match_timing(fc, foot_marker_contacts(t, ax.R_wl))
        # ICs in the first marker sample or on a plate that the foot had already reached are missed
        assert m["n_matched"] >= m["n_ref"] - 2, (name, m["n_matched"], m["n_ref"])
        assert np.abs(m["ic_err_s"]).max() <= FOOT_IC_TOL_S, (name, m["ic_err_s"])
        errs += list(m["ic_err_s"])
    assert len(errs) >= 110 and np.mean(np.abs(errs)) < 0.010


def test_truth_sources_per_trial():
    r = simulate_from_mocap(trial_path("dorn2012/ja1_run0350"), fs=100, min_gait_s=0,
                            static=trial_path("dorn2012/ja1_static"))
    assert r.info["ic_sources"] == ["foot_markers"] and r.info["neutral_source"] == "static"
    r = simulate_from_mocap(trial_path("bmclab/walk1"), fs=100, min_gait_s=0)
    assert r.info["lr_labels_swapped"] and r.truth.activity == "walk" and r.info["ic_sources"] == ["force"]
    r = simulate_from_mocap(trial_path("bmclab/run"), fs=100, min_gait_s=0)
    # one right and one left contact on the plates, the next right contact off them
    assert r.info["loop"]["block_ic_sources"] == ["force", "foot_markers"] and r.truth.activity == "run"


# ----------------------------------------------------------------------------- CLI
def test_cli_from_mocap_then_analyze(tmp_path, capsys):
    out, truth = tmp_path / "rec.csv", tmp_path / "truth.json"
    rc = main(["simulate", "--from-mocap", str(trial_path("fukuchi2017/rbds0041_runT25")), "--fs", "104",
               "--seed", "3", "--static", str(trial_path("fukuchi2017/rbds0041_static")), "--out", str(out),
               "--truth", str(truth), "--min-gait-s", "0"])
    assert rc == EXIT_OK
    rec = read_recording(out)
    assert rec.forward == "-z" and rec.up == "+y"
    d = json.loads(truth.read_text())
    assert d["trial"] == "fukuchi2017/rbds0041_runT25" and d["neutral_source"] == "static"
    assert len(d["steps"]) > 70 and d["steps"][5]["ic_source"] == "force"
    rc = main(["analyze", str(out), "--out", str(tmp_path / "steps.csv")])
    assert rc == EXIT_OK
    assert len((tmp_path / "steps.csv").read_text().splitlines()) > 50


def test_cli_bad_input_exit_2(tmp_path, capsys):
    rc = main(["simulate", "--from-mocap", str(tmp_path / "missing.c3d"), "--out", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert rc == EXIT_BAD_INPUT and "no such file" in err and "Traceback" not in err
    bad = tmp_path / "bad_markers.csv"
    bad.write_text("time_s,LASI_x,LASI_y,LASI_z\n0,1,1,0\n0.01,1,1,0\n")
    rc = main(["simulate", "--from-mocap", str(bad), "--out", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert rc == EXIT_BAD_INPUT and "pelvis markers" in err and len(err.strip().splitlines()) == 1
    rc = main(["simulate", "--static", str(bad), "--out", str(tmp_path / "r.csv")])
    assert rc == EXIT_BAD_INPUT


@pytest.mark.parametrize("name", ["dorn2012/ja1_run0350", "dorn2012/ja1_run0500", "dorn2012/ja1_run0700",
                                  "dorn2012/ja1_run0900", "fukuchi2017/rbds0041_runT35",
                                  "fukuchi2017/rbds0041_runT45", "fukuchi2017/rbds032_runT35"])
def test_foot_marker_only_trials_alternate(name):
    t = load_trial(trial_path(name))
    c = [x for x in foot_marker_contacts(t, lab_axes(t).R_wl) if np.isfinite(x.t_ic)]
    s = "".join(x.side for x in c)
    assert len(c) >= 5 and all(a != b for a, b in zip(s, s[1:])), s
    st = np.diff([x.t_ic for x in c])
    assert 0.2 < st.min() and st.max() < 0.5  # running step times


def test_bundled_trial_list_is_complete():
    from tests.sim.mocap_trials import DATA as D, TRIALS, simulate_trial, trial_files

    on_disk = {f"{p.parent.name}/{p.name[:-len('_markers.csv.gz')]}" for p in D.glob("*/*_markers.csv.gz")}
    assert set(TRIALS) == {n for n in on_disk if not n.endswith("_static")}
    for n in TRIALS:
        m, s = trial_files(n)
        assert m.exists() and (s is None or s.exists())
    rec = simulate_trial("bmclab/walk2", fs=52, seed=3)
    assert rec.truth.activity == TRIALS["bmclab/walk2"][2]
