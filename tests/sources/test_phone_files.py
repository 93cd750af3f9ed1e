"""Phone recordings: Sensor Logger and phyphox exports through `gaitmon analyze` / `gaitmon import`.

Sources of the formats and test vectors
---------------------------------------
* Sensor Logger: github.com/tszheichoi/awesome-sensor-logger (MIT), commit b10f5c53f0be49a5892ee05fb3725aa2e3113d27:
  README.md "JSON" (the two Accelerometer records used in ``JSON_EXAMPLE`` are copied from there),
  "Understanding Timestamps", "Accessing Recording Metadata"; UNITS.md; COORDINATES.md; CROSSPLATFORM.md.
* Real Sensor Logger zip exports (iPhone 12 mini, app 1.10.4): github.com/Lynch1206/5ARB0_1_1,
  commit f898595d770b1cd4161d9ab8d370fd59e4aef164, ``data/2022-09-09_13-14-55.zip`` (no gyroscope),
  ``data/2022-09-16_11-15-46.zip`` (Accelerometer, Gravity, AccelerometerUncalibrated, Gyroscope),
  ``data/2022-09-26_15-32-56.zip`` (150 s of motion; Accelerometer, AccelerometerUncalibrated, Gyroscope).
  That repository has no licence, so the files are not copied into gaitmon: the tests marked
  ``real_export`` read them from ``$GAITMON_PHONE_SAMPLES`` (a folder holding these files; see
  tests/sources/README.md) and are skipped without it.
* Real Sensor Logger exports shipped in tests/data/phone (MIT; see tests/data/phone/README.md), tested in CI:
  ``sensorlogger-ios-uncalibrated/`` — github.com/simorxb/quaternion-complementary-filter, commit
  3f0e6a984348f410f5a7c77279a2578210ae7caa, ``AccelerometerUncalibrated.csv`` + ``GyroscopeUncalibrated.csv``
  (iOS, 100 Hz, no Metadata.csv; the last 1.5 s: a turn, then lying flat — not gait);
  ``sensorlogger-ios-no-gravity/`` — github.com/BennyJHui/imu_data, commit ec0d1d38c30074eb7845f66c50d2853fb8974f43,
  ``Accelerometer.csv`` + ``Gyroscope.csv`` (iPhone 12, no Gravity.csv: refused). Both trimmed to a few rows,
  byte for byte.
* phyphox: github.com/phyphox/phyphox-android, commit cb5f8d8ff33d081953bf15af228045b3d7badbb8,
  DataExport.java (zip layout, quoted headers, the five CSV dialects, meta/time.csv) and
  ExperimentList/handler/SimpleExperimentCreator.java (set and column names); ExperimentTimeReference.java
  (experiment time stands still while paused). Real phyphox export (iPhone13,4, phyphox 1.1.13,
  "Acceleration without g"): github.com/raltm2e/imu_phyphox, commit f6d09e9968e34542f9367f0d64cab99f69fd71d5,
  ``data/Acceleration without g 2024-03-17 19-49-39/`` (no licence: read from ``$GAITMON_PHONE_SAMPLES``).
  A real export of a custom experiment with accelerometer and gyroscope, but at 5 Hz and with its own
  unit-less column names (``"time","Acceleration x",…``): github.com/Shantanu-Mandpe/Motion-Analysis-Project,
  commit a70b8e19fc97240a2574a2d8b91515380edaf0e6, ``final/walking.zip`` (no licence, same folder).
  No public phyphox export of the accelerometer with g and the gyroscope at a gait-usable rate was
  found, and no phyphox export at all in a repository whose licence allows copying it, so the positive
  phyphox path is tested on exports written in the layout of DataExport.java.
* Real walking repackaged as phone exports: the Mobilise-D lower-back recordings in tests/data/real-walking
  (Apache-2.0), rotated into a phone's screen frame for a belt mount and written in each app's layout.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gaitmon.cli import EXIT_BAD_INPUT, EXIT_NO_GAIT, EXIT_OK, main
from gaitmon.core import analyze
from gaitmon.core.types import GaitmonInputError
from gaitmon.sources import MOUNTS, apply_mount, detect, read_any
from gaitmon.sources.recording import G0
from gaitmon.sources.resample import merge_streams
from tests.sources.conftest import walk_phone

SAMPLES = Path(os.environ.get("GAITMON_PHONE_SAMPLES", "/nonexistent"))
PHONE_DATA = Path(__file__).resolve().parents[1] / "data" / "phone"  # licensed real exports (tests/data/phone/README.md)
real_export = pytest.mark.skipif(not SAMPLES.is_dir(), reason="set GAITMON_PHONE_SAMPLES (tests/sources/README.md)")

# awesome-sensor-logger README.md, "JSON" (commit b10f5c53): every value is a string
JSON_EXAMPLE = [
    {"sensor": "Accelerometer", "time": "1698501144401773000", "seconds_elapsed": "0.21677294921875",
     "z": "-0.10382747650146484", "y": "-0.0009566396474838257", "x": "0.06110857427120209"},
    {"sensor": "Accelerometer", "time": "1698501144411773000", "seconds_elapsed": "0.22677294921875",
     "z": "-0.10387134552001953", "y": "-0.002205267548561096", "x": "0.06393256038427353"},
]

T0_NS = 1_698_501_144_401_773_000


_walk = walk_phone


def _sl_csv(t_ns, v) -> str:
    out = io.StringIO()
    out.write("time,seconds_elapsed,z,y,x\n")
    for tn, row in zip(t_ns, v):
        out.write(f"{int(tn)},{(tn - t_ns[0]) / 1e9},{float(row[2])!r},{float(row[1])!r},{float(row[0])!r}\n")
    return out.getvalue()


def _lowpass(v, n=50):
    k = np.ones(n) / n
    return np.column_stack([np.convolve(np.pad(v[:, i], (n // 2, n - 1 - n // 2), mode="edge"), k, "valid")
                            for i in range(3)])


def _write_sensorlogger_ios(path: Path, t, sf, gyr, *, standardised=False, meta=True):
    """An iPhone export as Sensor Logger writes it: Accelerometer (user acc) + Gravity, iOS sign."""
    grav = _lowpass(sf)
    sign = 1.0 if standardised else -1.0
    t_ns = T0_NS + np.round(t * 1e9).astype(np.int64)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Accelerometer.csv", _sl_csv(t_ns, sign * (sf - grav)))
        z.writestr("Gravity.csv", _sl_csv(t_ns, sign * grav))
        z.writestr("Gyroscope.csv", _sl_csv(t_ns, gyr))
        if meta:
            head = "version,device name,recording time,platform,appVersion,device id,sensors,sampleRateMs"
            row = "3,iPhone,2026-11-20_07-30-00,ios,1.10.4,x,Accelerometer|Gravity|Gyroscope,10|10|10"
            if standardised:
                head, row = head + ",standardisation", row + ",true"
            z.writestr("Metadata.csv", f"{head}\n{row}\n")


# ------------------------------------------------------------------ published vectors
def test_json_export_vectors_and_missing_gyroscope(tmp_path):
    p = tmp_path / "export.json"
    p.write_text(json.dumps(JSON_EXAMPLE))
    assert detect(p) == "sensorlogger"
    with pytest.raises(GaitmonInputError, match=r"Sensor Logger export export.json: no Gyroscope"):
        read_any(p)
    from gaitmon.sources.sensorlogger import _vectors

    t, v, bad = _vectors("Accelerometer", JSON_EXAMPLE + [dict(JSON_EXAMPLE[0], x="n/a")], "export.json")
    assert bad == 1
    assert t.tolist() == [1698501144401773000, 1698501144411773000]  # ns, kept exact as int64
    assert v[0].tolist() == [0.06110857427120209, -0.0009566396474838257, -0.10382747650146484]  # x, y, z by name


def test_json_export_with_gyroscope_and_gravity_reads(tmp_path):
    rec, acc, gyr = _walk()
    t = rec.time[:600]
    grav = _lowpass(acc[:600])
    t_ns = T0_NS + np.round(t * 1e9).astype(np.int64)
    records = [{"sensor": "Metadata", "platform": "android", "version": "3"}]
    for name, v in (("Accelerometer", acc[:600] - grav), ("Gravity", grav), ("Gyroscope", gyr[:600])):
        records += [{"sensor": name, "time": str(tn), "seconds_elapsed": str((tn - t_ns[0]) / 1e9),
                     "z": str(r[2]), "y": str(r[1]), "x": str(r[0])} for tn, r in zip(t_ns, v)]
    p = tmp_path / "run.json"
    p.write_text(json.dumps(records))
    out = read_any(p)
    assert out.meta["sensor"] == "sensorlogger-android"
    np.testing.assert_allclose(out.acc, acc[: len(out.acc)], atol=1e-9)


def test_json_export_without_metadata_needs_the_platform(tmp_path, capsys):
    """The JSON export carries no Metadata.csv (README "JSON"): --phone-platform gives the sign."""
    rec, acc, gyr = _walk()
    t_ns = T0_NS + np.round(rec.time * 1e9).astype(np.int64)
    grav = _lowpass(acc)
    records = []
    for name, v in (("Accelerometer", -(acc - grav)), ("Gravity", -grav), ("Gyroscope", gyr)):  # iOS signs
        records += [{"sensor": name, "time": str(tn), "seconds_elapsed": "0", "z": str(r[2]), "y": str(r[1]),
                     "x": str(r[0])} for tn, r in zip(t_ns, v)]
    p = tmp_path / "ios.json"
    p.write_text(json.dumps(records))
    assert main(["analyze", str(p)]) == EXIT_BAD_INPUT
    assert "--phone-platform" in capsys.readouterr().err
    out = read_any(p, phone_platform="ios")
    np.testing.assert_allclose(out.acc, acc[: len(out.acc)], atol=1e-9)
    assert main(["analyze", str(p), "--phone-platform", "ios", "--mount", "belt-screen-in"]) == EXIT_OK
    # with Metadata.csv the flag must agree
    z = tmp_path / "android.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("TotalAcceleration.csv", _sl_csv(t_ns[:300], acc[:300]))
        zf.writestr("Gyroscope.csv", _sl_csv(t_ns[:300], gyr[:300]))
        zf.writestr("Metadata.csv", "platform\nandroid\n")
    with pytest.raises(GaitmonInputError, match="says platform android, not --phone-platform ios"):
        read_any(z, phone_platform="ios")
    assert read_any(z, phone_platform="android").meta["sensor"] == "sensorlogger-android"


# ------------------------------------------------------------------ units, signs, axes
@pytest.mark.parametrize("standardised", [False, True])
def test_ios_sign_convention_gives_specific_force(tmp_path, standardised):
    rec, acc, gyr = _walk()
    p = tmp_path / "ios.zip"
    _write_sensorlogger_ios(p, rec.time, acc, gyr, standardised=standardised)
    out = read_any(p)
    assert out.meta["acceleration"] == "Accelerometer+Gravity"
    np.testing.assert_allclose(out.acc, acc[: len(out.acc)], atol=1e-9)
    np.testing.assert_allclose(out.gyr, gyr[: len(out.gyr)], atol=1e-12)  # same sign on both platforms
    # a phone upright in the belt: +y (up the screen) carries +g
    assert 8.5 < out.acc[:100, 1].mean() < 10.5


def test_uncalibrated_ios_acceleration_is_in_g(tmp_path):
    rec, acc, gyr = _walk()
    t_ns = T0_NS + np.round(rec.time * 1e9).astype(np.int64)
    p = tmp_path / "unc.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("AccelerometerUncalibrated.csv", _sl_csv(t_ns, -acc / G0))  # UNITS.md: g, iOS sign
        z.writestr("Gyroscope.csv", _sl_csv(t_ns, gyr))
        z.writestr("Metadata.csv", "version,platform\n3,ios\n")
    out = read_any(p)
    np.testing.assert_allclose(out.acc, acc[: len(out.acc)], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mount", list(MOUNTS))
def test_mount_presets_are_right_handed_axes(mount):
    from gaitmon.axes import axis_vector

    fwd, up = MOUNTS[mount]
    f = axis_vector(fwd, ValueError)
    u = axis_vector(up, ValueError)
    assert abs(f @ u) == 0
    assert "z" in fwd and "y" in up  # screen normal horizontal, long side vertical


# ------------------------------------------------------------------ resampling: jitter, pauses
def test_irregular_streams_merge_without_inventing_samples():
    rng = np.random.default_rng(3)
    # accelerometer ~200 Hz with jitter, gyroscope ~100 Hz on its own clock; a 3 s screen lock
    ta = np.cumsum(rng.uniform(0.004, 0.006, 4000))
    ta = ta[(ta < 6.0) | (ta > 9.0)]
    tg = np.cumsum(rng.uniform(0.008, 0.012, 2000))
    tg = tg[(tg < 6.2) | (tg > 9.1)]
    tg = np.concatenate([tg, tg[100:105]])  # duplicated (re-sent) samples
    f = lambda t: np.column_stack([np.sin(t), np.cos(t), t])  # noqa: E731
    m = merge_streams(ta, f(ta), tg, f(tg))
    assert m.fs == pytest.approx(200.0, rel=0.02)
    assert m.duplicates == 5
    assert m.gaps == 2 and m.gap_seconds > 5.5
    assert not ((m.time > 6.05) & (m.time < 8.95)).any()  # nothing invented inside the lock
    assert np.diff(m.time).max() > 2.5
    np.testing.assert_allclose(m.acc, f(m.time), atol=1e-3)
    np.testing.assert_allclose(m.gyr, f(m.time), atol=1e-3)


def test_android_total_acceleration_jitter_and_gap_end_to_end(tmp_path, capsys):
    rec, acc, gyr = _walk()
    rng = np.random.default_rng(5)
    # Android: TotalAcceleration and Gyroscope on their own jittered clocks (re-sampled from 100 Hz)
    n = len(rec.time)
    t_a = np.sort(rec.time[1:-1] + rng.uniform(-0.002, 0.002, n - 2))
    t_g = np.sort(rec.time[1:-1] + rng.uniform(-0.002, 0.002, n - 2) + 0.003)
    a = np.column_stack([np.interp(t_a, rec.time, acc[:, i]) for i in range(3)])
    g = np.column_stack([np.interp(t_g, rec.time, gyr[:, i]) for i in range(3)])
    p = tmp_path / "android.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("TotalAcceleration.csv", _sl_csv(T0_NS + np.round(t_a * 1e9).astype(np.int64), a))
        z.writestr("Gyroscope.csv", _sl_csv(T0_NS + np.round(t_g * 1e9).astype(np.int64), g))
        z.writestr("Metadata.csv", "version,device name,platform,appVersion\n4,Pixel,android,1.40\n")
    out = read_any(p)
    assert out.meta["sensor"] == "sensorlogger-android" and out.meta["fs"] == pytest.approx(100.0, abs=0.5)
    ref = analyze(rec.time, rec.acc, rec.gyr, forward="+z", up="+x")
    got = analyze(out.time, out.acc, out.gyr, forward=MOUNTS["belt-screen-in"][0], up=MOUNTS["belt-screen-in"][1])
    assert len(ref.steps) >= 10
    assert abs(len(got.steps) - len(ref.steps)) <= 1
    tr = np.array([s.t_ic_s for s in ref.steps])
    # the phone clock starts at its first sample: shift back to the recording's clock
    tg_ = np.array([s.t_ic_s for s in got.steps]) + min(t_a[0], t_g[0])
    near = [np.min(np.abs(tr - x)) for x in tg_]
    assert np.median(near) < 0.03
    sides = {round(s.t_ic_s, 1): s.side for s in ref.steps}
    assert sum(sides.get(round(x, 1)) == s.side for x, s in zip(tg_, got.steps)) >= 0.8 * len(got.steps)
    # the CLI takes the zip and the preset
    rc = main(["analyze", str(p), "--mount", "belt-screen-in", "--summary", str(tmp_path / "s.json")])
    assert rc == EXIT_OK
    summ = json.loads((tmp_path / "s.json").read_text())
    assert summ["forward"] == "+z" and summ["up"] == "+y"


def test_ios_screen_lock_gap_stays_a_gap(tmp_path):
    rec, acc, gyr = _walk()
    keep = (rec.time < 4.0) | (rec.time > 7.0)
    p = tmp_path / "locked.zip"
    _write_sensorlogger_ios(p, rec.time[keep], acc[keep], gyr[keep])
    out = read_any(p)
    assert out.meta["phone_gaps"] == 2  # one hole in each stream
    assert not ((out.time > 4.01) & (out.time < 6.99)).any()
    res = analyze(out.time, out.acc, out.gyr, forward="+z", up="+y")
    assert res.input_stats.long_gaps >= 1


# ------------------------------------------------------------------ phyphox
def _phyphox_zip(path: Path, t, acc, gyr, *, sep=",", dec=".", pause=None, gyro=True, linear=False):
    """A phyphox simple-experiment export as DataExport.java writes it."""
    def fmt(x):
        s = f"{x:.9E}".replace("E+0", "E").replace("E-0", "E-").replace("E+", "E")
        return s.replace(".", dec)

    def table(cols, names):
        head = sep.join(f'"{n}"' for n in names)
        rows = [sep.join(fmt(c[i]) for c in cols) for i in range(len(cols[0]))]
        return head + "\n" + "\n".join(rows) + "\n"

    te = t - t[0]
    if pause:  # experiment time stands still while paused: remove the paused span
        a, b = pause
        keep = (te < a) | (te >= b)
        te = np.where(te >= b, te - (b - a), te)[keep]
        acc, gyr = acc[keep], gyr[keep]
    with zipfile.ZipFile(path, "w") as z:
        if linear:
            z.writestr("Raw Data.csv", table([te, *acc.T], ["Time (s)"] + [f"Linear Acceleration {c} (m/s^2)" for c in "xyz"]))
        else:
            z.writestr("Accelerometer.csv", table([te, *acc.T], ["Time (s)"] + [f"Acceleration {c} (m/s^2)" for c in "xyz"]))
        if gyro:
            z.writestr("Gyroscope.csv", table([te + 0.0007, *gyr.T], ["Time (s)"] + [f"Gyroscope {c} (rad/s)" for c in "xyz"]))
        ev = [("START", 0.0, 1.7e9)]
        if pause:
            ev += [("PAUSE", pause[0], 1.7e9 + pause[0]), ("START", pause[0], 1.7e9 + pause[1])]
        z.writestr("meta/time.csv", sep.join(['"event"', '"experiment time"', '"system time"', '"system time text"'])
                   + "\n" + "".join(sep.join([f'"{e}"', fmt(x), f"{s:.3f}".replace(".", dec), '"x"']) + "\n"
                                    for e, x, s in ev))
        z.writestr("meta/device.csv", '"property","value"\n"version","1.1.16"\n')


@pytest.mark.parametrize("sep,dec", [(",", "."), ("\t", "."), (";", "."), ("\t", ","), (";", ",")])
def test_phyphox_dialects(tmp_path, sep, dec):
    rec, acc, gyr = _walk()
    p = tmp_path / "phyphox.zip"
    _phyphox_zip(p, rec.time[:500], acc[:500], gyr[:500], sep=sep, dec=dec)
    assert detect(p) == "phyphox"
    out = read_any(p)
    t = rec.time[:500] - rec.time[0]
    want = np.column_stack([np.interp(out.time, t, acc[:500, i]) for i in range(3)])
    np.testing.assert_allclose(out.acc, want, atol=1e-6 * 20)
    assert out.meta["start_utc"].startswith("2023-11-14T22:13:20")


def test_phyphox_pause_becomes_a_gap_and_walks(tmp_path):
    rec, acc, gyr = _walk()
    p = tmp_path / "phyphox.zip"
    _phyphox_zip(p, rec.time, acc, gyr, pause=(3.0, 5.0))
    out = read_any(p)
    assert out.meta["pauses"] == 1
    assert not ((out.time > 3.01) & (out.time < 4.99)).any()
    # after the pause the samples are back on the wall clock: they match the original instants
    k = np.searchsorted(rec.time, 8.0)
    j = np.searchsorted(out.time, 8.0)
    np.testing.assert_allclose(out.acc[j], np.array([np.interp(out.time[j], rec.time, acc[:, i]) for i in range(3)]), atol=0.05)
    res = analyze(out.time, out.acc, out.gyr, forward="+z", up="+y")
    assert len(res.steps) >= 8 and k


def test_phyphox_partial_exports_name_the_column(tmp_path, capsys):
    rec, acc, gyr = _walk()
    p = tmp_path / "nogyro.zip"
    _phyphox_zip(p, rec.time[:300], acc[:300], gyr[:300], gyro=False)
    rc = main(["analyze", str(p)])
    err = capsys.readouterr().err
    assert rc == EXIT_BAD_INPUT and "phyphox export nogyro.zip" in err and "'Gyroscope x (rad/s)'" in err
    assert len(err.strip().splitlines()) == 1
    p = tmp_path / "linear.zip"
    _phyphox_zip(p, rec.time[:300], acc[:300], gyr[:300], linear=True)
    with pytest.raises(GaitmonInputError, match=r"'Acceleration x \(m/s\^2\)'.*Linear Acceleration"):
        read_any(p)


# ------------------------------------------------------------------ malformed Sensor Logger exports
def test_sensorlogger_malformed_exports_one_line_errors(tmp_path, capsys):
    rec, acc, gyr = _walk()
    t_ns = T0_NS + np.round(rec.time[:200] * 1e9).astype(np.int64)
    cases = {
        "nox.zip": ({"TotalAcceleration.csv": _sl_csv(t_ns, acc[:200]),
                     "Gyroscope.csv": "time,seconds_elapsed,z,y\n1,0,0,0\n2,0,0,0\n",
                     "Metadata.csv": "platform\nandroid\n"}, "Gyroscope has no column 'x'"),
        "nograv.zip": ({"Accelerometer.csv": _sl_csv(t_ns, acc[:200]), "Gyroscope.csv": _sl_csv(t_ns, gyr[:200]),
                        "Metadata.csv": "platform\nios\n"}, "no Gravity.csv"),
        "nometa.zip": ({"Accelerometer.csv": _sl_csv(t_ns, acc[:200]), "Gravity.csv": _sl_csv(t_ns, acc[:200]),
                        "Gyroscope.csv": _sl_csv(t_ns, gyr[:200]), "Metadata.csv": "version\n3\n"},
                       "no column 'platform'"),
        "text.zip": ({"TotalAcceleration.csv": "time,seconds_elapsed,z,y,x\nA,B,C,D,E\n",
                      "Gyroscope.csv": _sl_csv(t_ns, gyr[:200]), "Metadata.csv": "platform\nandroid\n"},
                     "TotalAcceleration column 'time' holds no numbers"),
    }
    for name, (files, msg) in cases.items():
        p = tmp_path / name
        with zipfile.ZipFile(p, "w") as z:
            for n, text in files.items():
                z.writestr(n, text)
        rc = main(["analyze", str(p)])
        err = capsys.readouterr().err
        assert rc == EXIT_BAD_INPUT, name
        assert f"Sensor Logger export {name}" in err and msg in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # units flags do not apply to an app export
    p = tmp_path / "ok.zip"
    _write_sensorlogger_ios(p, rec.time[:300], acc[:300], gyr[:300])
    assert main(["analyze", str(p), "--acc-unit", "g"]) == EXIT_BAD_INPUT
    assert "do not apply" in capsys.readouterr().err


def test_unpacked_folder_and_single_csv(tmp_path):
    rec, acc, gyr = _walk()
    p = tmp_path / "ios.zip"
    _write_sensorlogger_ios(p, rec.time[:400], acc[:400], gyr[:400])
    d = tmp_path / "unpacked"
    zipfile.ZipFile(p).extractall(d)
    a = read_any(d)
    b = read_any(d / "Gyroscope.csv")
    c = read_any(p)
    np.testing.assert_array_equal(a.acc, c.acc)
    np.testing.assert_array_equal(b.gyr, c.gyr)
    assert apply_mount(c, "belt-screen-out").forward == "-z"
    # phyphox names a simple experiment's CSVs Accelerometer.csv and Gyroscope.csv too: its unpacked folder is
    # phyphox by the header (it used to be taken for Sensor Logger and refused for a missing column 'time')
    pz = tmp_path / "phyphox.zip"
    _phyphox_zip(pz, rec.time[:400], acc[:400], gyr[:400])
    zipfile.ZipFile(pz).extractall(tmp_path / "phyphox")
    assert detect(tmp_path / "phyphox") == "phyphox"
    np.testing.assert_array_equal(read_any(tmp_path / "phyphox").acc, read_any(pz).acc)


# ------------------------------------------------------------------ real exports shipped in tests/data/phone (MIT)
def test_real_ios_uncalibrated_export_reads_in_g_with_the_ios_sign():
    """Sensor Logger iOS, only the uncalibrated sensors, no Metadata.csv (simorxb/quaternion-complementary-filter,
    MIT): found by its header although it has neither Accelerometer.csv nor Gyroscope.csv; g x −9.80665 gives
    Android's sign, so the phone lying flat, screen up, reads +|g| on z."""
    d = PHONE_DATA / "sensorlogger-ios-uncalibrated"
    assert detect(d) == "sensorlogger" and detect(d / "GyroscopeUncalibrated.csv") == "sensorlogger"
    with pytest.raises(GaitmonInputError, match="no column 'platform'.*--phone-platform"):
        read_any(d)
    rec = read_any(d, phone_platform="ios")
    assert (rec.meta["acceleration"], rec.meta["gyroscope"]) == ("AccelerometerUncalibrated", "GyroscopeUncalibrated")
    assert rec.meta["sensor"] == "sensorlogger-ios" and rec.meta["start_utc"].startswith("2023-11-11T20:22:15.426")
    assert 99.5 < rec.meta["fs"] < 100.5 and rec.meta["phone_gaps"] == 0 and rec.bad_rows == 0
    assert len(rec.time) == 153 and 1.5 < rec.time[-1] - rec.time[0] < 1.55
    raw = np.genfromtxt(d / "AccelerometerUncalibrated.csv", delimiter=",", skip_header=1)  # time, s, z, y, x in g
    np.testing.assert_allclose(rec.acc[-100:].mean(0), -raw[-100:, [4, 3, 2]].mean(0) * G0, atol=0.01)
    assert np.abs(rec.gyr[rec.time < 0.3]).max() > 1.0  # still turning at the start of the kept rows
    still = rec.time >= rec.time[-1] - 1.0  # lying flat, screen up
    g = rec.acc[still].mean(0)
    assert g[2] > 9.3 and abs(g[0]) < 0.3 and abs(g[1]) < 0.3
    assert 9.4 < np.linalg.norm(g) < 10.2  # 9.61: this iPhone's uncalibrated accelerometer reads 0.98 g
    assert np.median(np.linalg.norm(rec.gyr[still], axis=1)) < 0.05


def test_real_ios_uncalibrated_export_is_not_gait(tmp_path, capsys):
    """The phone turned and laid down, not carried: `gaitmon analyze` says so and finds no step."""
    d = PHONE_DATA / "sensorlogger-ios-uncalibrated"
    out, summary = tmp_path / "steps.csv", tmp_path / "summary.json"
    rc = main(["analyze", str(d), "--phone-platform", "ios", "--mount", "belt-screen-out", "--out", str(out),
               "--summary", str(summary)])
    assert rc == EXIT_NO_GAIT
    assert "no gait found" in capsys.readouterr().err
    s = json.loads(summary.read_text())
    assert s["steps_total"] == 0 and s["sample_rate_hz"] == pytest.approx(99.9, abs=0.5)
    assert s["input"]["samples_in"] == 153 and s["input"]["gap_count"] == 0


def test_real_ios_export_without_gravity_is_refused(capsys):
    """Sensor Logger iOS on an iPhone 12 with Accelerometer (without gravity) and Gyroscope but no Gravity.csv
    (BennyJHui/imu_data, MIT): the columns parse, and gaitmon says which sensor to switch on."""
    from gaitmon.sources.sensorlogger import _load_tables, _vectors

    d = PHONE_DATA / "sensorlogger-ios-no-gravity"
    assert detect(d) == "sensorlogger"
    tables = _load_tables(d)
    t, v, bad = _vectors("Gyroscope", tables["Gyroscope"], d.name)
    assert len(t) == 20 and bad == 0 and t[0] == 1_760_565_906_248_623_000
    assert np.median(np.diff(t)) == pytest.approx(10_029_000, abs=2_000)  # 100 Hz, ns
    assert np.abs(v).max() > 3.0  # rad/s: the phone turning in the hand
    for p in (d, d / "Accelerometer.csv"):
        with pytest.raises(GaitmonInputError, match="Accelerometer.csv is acceleration without gravity and there is "
                                                    "no Gravity.csv"):
            read_any(p, phone_platform="ios")
    assert main(["analyze", str(d), "--phone-platform", "ios"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "Sensor Logger export sensorlogger-ios-no-gravity" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ real exports (not redistributable)
@real_export
def test_real_sensorlogger_ios_sign_against_uncalibrated():
    """2022-09-16: Accelerometer + Gravity (m/s², iOS sign) equals AccelerometerUncalibrated (g, iOS sign) x g0."""
    out = read_any(SAMPLES / "2022-09-16_11-15-46.zip")
    assert out.meta["acceleration"] == "Accelerometer+Gravity"
    z = zipfile.ZipFile(SAMPLES / "2022-09-16_11-15-46.zip")
    u = np.genfromtxt(io.BytesIO(z.read("AccelerometerUncalibrated.csv")), delimiter=",", skip_header=1)
    # gaitmon's specific force = −(uncalibrated) x g0 on a non-standardised iPhone
    sf_unc = -u[:, [4, 3, 2]] * G0
    n = min(len(out.acc), len(sf_unc)) - 5
    assert np.median(np.abs(out.acc[5:n] - sf_unc[5:n])) < 0.5
    assert 9.3 < np.linalg.norm(out.acc[:50].mean(0)) < 10.3  # lying still at the start: |g|
    assert out.acc[:50, 2].mean() > 9.0  # flat, screen up: +z carries +g (Android convention)


@real_export
def test_real_sensorlogger_export_analyses_to_steps(tmp_path):
    rc = main(["analyze", str(SAMPLES / "2022-09-26_15-32-56.zip"), "--mount", "belt-screen-out",
               "--out", str(tmp_path / "steps.csv")])
    assert rc == EXIT_OK
    assert len((tmp_path / "steps.csv").read_text().splitlines()) > 50
    with pytest.raises(GaitmonInputError, match="no Gyroscope"):
        read_any(SAMPLES / "2022-09-09_13-14-55.zip")


@real_export
def test_real_phyphox_export_without_g_is_refused_by_column():
    d = SAMPLES / "Acceleration without g 2024-03-17 19-49-39"
    assert detect(d) == "phyphox"
    with pytest.raises(GaitmonInputError, match=r"phyphox export .*'Acceleration x \(m/s\^2\)'.*Linear Acceleration"):
        read_any(d)
    from gaitmon.sources.phyphox import _runs

    runs = _runs((d / "meta" / "time.csv").read_text())
    assert runs == [(0.0, pytest.approx(1710697732.324872))]


def test_import_phone_export_into_influxdb(tmp_path, influx_env, influxd):
    """`gaitmon import export.zip --mount …`: steps land in a real influxd at the phone's UTC time."""
    rec, acc, gyr = _walk()
    p = tmp_path / "ios.zip"
    _write_sensorlogger_ios(p, rec.time, acc, gyr)
    assert main(["import", str(p), "--runner", "ann", "--mount", "belt-screen-in"]) == EXIT_OK
    rows = influxd.rows('SELECT "pelvic_drop_deg" FROM "gait_step" WHERE "runner" = \'ann\'', influx_env)
    assert len(rows) >= 10
    assert all(T0_NS <= r["time"] <= T0_NS + 20 * 10**9 for r in rows)  # anchored at the phone's clock


@real_export
def test_real_phyphox_custom_experiment_is_refused_by_column():
    """A custom experiment names its columns itself ("Acceleration x", no unit): gaitmon does not guess
    whether that is with or without g, and says which column it needs."""
    p = SAMPLES / "phyphox-custom-walking.zip"
    assert detect(p) == "phyphox"
    with pytest.raises(GaitmonInputError, match=r"phyphox export phyphox-custom-walking.zip: no column 'Acceleration x \(m/s\^2\)'"):
        read_any(p)
    from gaitmon.sources.phyphox import _load, _runs

    _files, timecsv = _load(p)
    assert _runs(timecsv) == [(0.0, pytest.approx(1673860393.61692))]
