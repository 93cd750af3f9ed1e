"""Issue 12 items 5 and 7 (and the long-name part of 12): names round-trip exactly through a real
influxd or are refused at the door with exit 2 — never stored altered, never a traceback."""
from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gaitmon.cli import main
from gaitmon.names import name_problem
from gaitmon.sources.recording import write_recording
from gaitmon.store import open_writer
from gaitmon.store.query import GaitQuery
from tests.robustness.conftest import REC
from tests.store.conftest import fast_cfg

STEP = dict(t_ic_s=1.0, side="L", step_time_s=0.35, cadence_spm=170.0, contact_time_s=0.2,
            pelvic_drop_deg=5.0, obliquity_range_deg=8.0, tilt_range_deg=4.0, rotation_range_deg=6.0,
            vertical_oscillation_cm=7.0, activity="run", quality=0.9, stride_index=1)
T0 = 1767607200000000000
_N = iter(range(10**9))


def test_trailing_backslash_round_trips_or_is_refused(influx_env, influxd, db, recording, capsys):
    rc = main(["import", str(recording), "--runner", "ann\\", "--influx-timeout", "10"])
    err = capsys.readouterr().err
    assert rc == 2 and "backslash" in err and "Traceback" not in err
    assert not influxd.rows('SELECT count("quality") FROM "gait_step"', db=db)  # nothing stored as 'ann '


@pytest.mark.parametrize("runner", ["a\tb", "a\nb", "", "x" * 5000])
def test_bad_runner_is_a_one_line_error(clean_env, recording, runner, capsys):
    rc = main(["analyze", str(recording), "--runner", runner])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "--runner" in err


@pytest.mark.parametrize("sensor", ["a\tb", ""])
def test_bad_sensor_header_is_a_one_line_error(clean_env, tmp_path, sensor, capsys):
    p = tmp_path / "r.csv"
    write_recording(p, REC.time, REC.acc, REC.gyr, {"forward": REC.forward, "up": REC.up, "sensor": sensor})
    rc = main(["analyze", str(p), "--runner", "ann"])
    err = capsys.readouterr().err
    assert rc == 2 and "sensor" in err and "Traceback" not in err


_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runner=st.text(_ALPHABET, min_size=1, max_size=20) | st.text(string.printable + "\\,= '\"", min_size=1, max_size=12),
       sensor=st.text(string.ascii_letters + "\\,= -_", min_size=1, max_size=10))
def test_every_accepted_name_round_trips(influxd, db, tmp_path_factory, runner, sensor):
    if name_problem(runner) or name_problem(sensor):
        return  # refused at the door (tested above)
    session = f"s{next(_N)}"  # the database is shared by the examples
    spool = tmp_path_factory.mktemp("spool")
    cfg = fast_cfg(influxd.url, spool, database=db, api="v1")
    w = open_writer(cfg)
    try:
        assert w.write_steps([STEP], sensor=sensor, session=session, t0_unix_ns=T0, runner=runner) == 1
        assert w.flush(10)
    finally:
        w.close()
    assert not w.stats.rejected, w.stats.loss_message()
    with GaitQuery(cfg) as q:
        sessions = q.sessions(runner)
    assert (session, sensor) in [(s.session, s.sensor) for s in sessions]
