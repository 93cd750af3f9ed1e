"""Line protocol of the gaitmon schema: identical to influxdb-client's Point, NaN never written."""
from __future__ import annotations

import dataclasses
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from influxdb_client import Point

from gaitmon.store.lineproto import (STEP_FLOAT_FIELDS, encode_exercise, encode_sensor_status,
                                     encode_session, encode_steps, point_time_ns)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
any_float = st.one_of(finite, st.just(math.nan), st.just(math.inf), st.just(-math.inf))
# (a backslash at the end or before , = space cannot be carried by line protocol: refused, issue 12)
tag_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12) \
    .filter(lambda s: s.strip() and not re.search(r"\\(?=[,= ]|$)", s))

step_st = st.fixed_dictionaries({
    "t_ic_s": st.floats(0, 1e5, allow_nan=False),
    "side": st.sampled_from(["L", "R"]),
    "activity": st.sampled_from(["walk", "run"]),
    "stride_index": st.integers(0, 10**9),
    **{k: any_float for k in STEP_FLOAT_FIELDS},
})


def point_reference(step, runner, sensor, session, t0):
    """The same step through influxdb_client.Point (the reference serialisation)."""
    p = Point("gait_step").tag("runner", runner).tag("sensor", sensor).tag("session", session) \
        .tag("side", step["side"]).tag("activity", step["activity"])
    for k in STEP_FLOAT_FIELDS:
        p.field(k, float(step[k]))
    p.field("stride_index", int(step["stride_index"]))
    return p.time(t0 + round(step["t_ic_s"] * 1e9)).to_line_protocol()


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(step_st, min_size=1, max_size=5), runner=tag_text, sensor=tag_text,
       session=tag_text, t0=st.integers(0, 2**62))
def test_fast_step_encoding_equals_influxdb_client_point(steps, runner, sensor, session, t0):
    enc = encode_steps(steps, runner=runner, sensor=sensor, session=session, t0_unix_ns=t0)
    assert not enc.rejected
    assert enc.lines == [point_reference(s, runner, sensor, session, t0) for s in steps]
    nonfinite = sum(not math.isfinite(s[k]) for s in steps for k in STEP_FLOAT_FIELDS)
    assert sum(enc.omitted.values()) == nonfinite
    for line in enc.lines:
        assert "nan" not in line.lower().split(" ", 1)[1] and "inf" not in line.split(" ", 1)[1]


def test_step_from_core_object(sim_steps):
    enc = encode_steps(sim_steps[:3], runner="alice", sensor="s", session="x", t0_unix_ns=10**18)
    assert len(enc.lines) == 3 and not enc.rejected
    s = sim_steps[0]
    assert enc.lines[0].startswith("gait_step,activity=run,runner=alice,sensor=s,session=x,side=" + s.side + " ")
    assert f"pelvic_drop_deg={s.pelvic_drop_deg!r}" in enc.lines[0]
    assert enc.lines[0].endswith(" " + str(point_time_ns(10**18, s.t_ic_s)))


def test_nan_contact_time_is_omitted_and_counted():
    step = dict(t_ic_s=1.5, side="L", step_time_s=0.5, cadence_spm=120, contact_time_s=math.nan,
                pelvic_drop_deg=3, obliquity_range_deg=8.0, tilt_range_deg=4.0, rotation_range_deg=9.0,
                vertical_oscillation_cm=4.0, activity="walk", quality=1, stride_index=4.0, side_confidence=0.97)
    enc = encode_steps([step], runner="a", sensor="s", session="x", t0_unix_ns=0)
    (line,) = enc.lines
    assert "contact_time_s" not in line
    assert enc.omitted == {"contact_time_s": 1}
    # whole numbers stay floats (no 'i' suffix) so the field type never changes; the index is int
    assert "cadence_spm=120," in line and "pelvic_drop_deg=3," in line and "quality=1," in line
    assert "stride_index=4i" in line
    assert line.endswith(" 1500000000")


@pytest.mark.parametrize("bad, reason", [
    ({"side": "X"}, "side"),
    ({"activity": "swim"}, "activity"),
    ({"t_ic_s": math.nan}, "not finite"),
    ({"t_ic_s": None}, ""),
    ({"pelvic_drop_deg": "3.2"}, "pelvic_drop_deg"),
    ({"stride_index": 2.5}, "stride_index"),
    ({"step_time_s": True}, "step_time_s"),
])
def test_invalid_steps_are_rejected_with_reason(bad, reason):
    good = dict(t_ic_s=1.0, side="R", step_time_s=0.4, cadence_spm=150.0, contact_time_s=0.2,
                pelvic_drop_deg=5.0, obliquity_range_deg=9.0, tilt_range_deg=5.0, rotation_range_deg=10.0,
                vertical_oscillation_cm=7.0, activity="run", quality=0.8, stride_index=1)
    enc = encode_steps([good, {**good, **bad}, good], runner="a", sensor="s", session="x", t0_unix_ns=0)
    assert len(enc.lines) == 2
    assert len(enc.rejected) == 1 and enc.rejected[0][0] == 1
    assert reason in enc.rejected[0][1]


def test_all_fields_nan_is_a_rejection_not_an_empty_point():
    step = {k: math.nan for k in STEP_FLOAT_FIELDS}
    step.update(t_ic_s=1.0, side="L", activity="run", stride_index=None)
    enc = encode_steps([step], runner="a", sensor="s", session="x", t0_unix_ns=0)
    assert enc.lines == [] and enc.rejected[0][1] == "no finite field values"


def test_tags_must_be_real_names():
    with pytest.raises(ValueError, match="runner"):
        encode_steps([], runner="", sensor="s", session="x", t0_unix_ns=0)
    with pytest.raises(ValueError, match="control"):
        encode_steps([], runner="a", sensor="s\n", session="x", t0_unix_ns=0)


def test_session_summary_is_flattened_and_typed():
    summary = {"steps": 412, "rejected_steps": 3, "neutral": "standing", "standing_found": True,
               "pelvic_drop_deg": {"L": {"mean": 5.25, "sd": 1.5, "p90": math.nan}, "R": {"mean": 4.0}},
               "series": [1, 2, 3], "when": object()}
    enc = encode_session(summary, runner="alice", sensor="s1", session="day 1", t_unix_ns=123)
    (line,) = enc.lines
    assert line.startswith("gait_session,runner=alice,sensor=s1,session=day\\ 1 ")
    assert ",steps=412 " in line and "rejected_steps=3," in line  # counts as floats (no i)
    assert 'neutral="standing"' in line and "standing_found=true" in line
    assert "pelvic_drop_deg_L_mean=5.25" in line and "pelvic_drop_deg_R_mean=4" in line
    assert "p90" not in line and "series" not in line and "when" not in line
    assert enc.omitted == {"pelvic_drop_deg_L_p90": 1, "when": 1}
    assert line.endswith(" 123")


def test_sensor_status_and_exercise_points():
    enc = encode_sensor_status(runner="a", sensor="s", t_unix_ns=5, battery_pct=80, rssi_dbm=-61.5,
                               packets_received=1000, packets_lost=3, packets_rejected=0, reconnects=1)
    assert enc.lines == ["sensor_status,runner=a,sensor=s battery_pct=80,packets_lost=3i,"
                         "packets_received=1000i,packets_rejected=0i,reconnects=1i,rssi_dbm=-61.5 5"]
    enc = encode_exercise(runner="a", exercise="side plank", t_unix_ns=7, sets=3, hold_s=30,
                          note='left "hip" weaker')
    assert enc.lines == ['exercise,exercise=side\\ plank,runner=a hold_s=30,note="left \\"hip\\" weaker",sets=3i 7']
    enc = encode_sensor_status(runner="a", sensor="s", t_unix_ns=5)
    assert enc.lines == [] and enc.rejected


@pytest.mark.parametrize("t0, t, want", [(0, 1.25, 1_250_000_000), (10**18, 0.1, 10**18 + 100_000_000),
                                         (5, -1e-9, 4)])
def test_point_time(t0, t, want):
    assert point_time_ns(t0, t) == want


@pytest.mark.parametrize("t0, t", [(0, math.inf), (0, -1.0), (2**63 - 1, 1.0)])
def test_point_time_out_of_range(t0, t):
    with pytest.raises(ValueError):
        point_time_ns(t0, t)


def test_line_breaks_never_reach_line_protocol():
    enc = encode_session({"neutral": "standing\nquietly", "steps": 3}, runner="a", sensor="s",
                         session="x", t_unix_ns=1)
    assert enc.lines == ["gait_session,runner=a,sensor=s,session=x steps=3 1"]
    assert enc.omitted == {"neutral": 1}
    with pytest.raises(ValueError, match="one line"):
        encode_exercise(runner="a", exercise="bridge", t_unix_ns=1, note="a\nb")
    with pytest.raises(ValueError, match="control characters"):
        encode_exercise(runner="a", exercise="side\nplank", t_unix_ns=1, sets=2)


def test_missing_column_is_omitted_and_counted(sim_steps):
    step = dataclasses.asdict(sim_steps[5])
    del step["contact_time_s"]

    class Obj:  # any object with the column attributes, one missing
        pass
    obj = Obj()
    for k, v in step.items():
        setattr(obj, k, v)
    for s in (step, obj):
        enc = encode_steps([s], runner="a", sensor="s", session="x", t0_unix_ns=0)
        assert len(enc.lines) == 1 and "contact_time_s" not in enc.lines[0]
        assert enc.omitted == {"contact_time_s": 1} and not enc.rejected
