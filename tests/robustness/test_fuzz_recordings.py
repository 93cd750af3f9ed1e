"""Issue 12: fuzzed recordings through `gaitmon import` against the real influxd — whatever the
file holds, a one-line message and exit 0/2/3 (4 only for the server), never a traceback, and
never more points stored than steps reported."""
from __future__ import annotations

import io
import itertools

from hypothesis import HealthCheck, given, settings, strategies as st

from gaitmon.cli import main
from gaitmon.sim import SimConfig, simulate
from gaitmon.sources.recording import write_recording

REC = simulate(SimConfig(activity="run", fs=104.0, duration_s=25.0, seed=5))
_buf = io.StringIO()


def _text(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("base") / "r.csv"
    write_recording(p, REC.time, REC.acc, REC.gyr, {"forward": REC.forward, "up": REC.up, "sensor": "s1"})
    return p.read_text()


_ids = itertools.count()
edits = st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["insert", "delete", "replace", "dupline", "dropline"]),
                           st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)),
                 max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=edits, header_junk=st.sampled_from(["", "\ufeff", "# sensor: \t\n", "# start_utc: 2300-01-01T00:00:00Z\n",
                                                   "# acc_unit: furlongs\n", "\"time_s\";\n"]))
def test_fuzzed_recording_import(influx_env, influxd, db, tmp_path_factory, capsys, edits, header_junk):
    text = header_junk + _text(tmp_path_factory)
    lines = text.split("\n")
    for pos, op, s in edits:
        i = pos % max(len(lines), 1)
        if op == "insert":
            j = pos % (len(lines[i]) + 1)
            lines[i] = lines[i][:j] + s + lines[i][j:]
        elif op == "delete":
            j = pos % (len(lines[i]) + 1)
            lines[i] = lines[i][:j] + lines[i][j + len(s) + 1:]
        elif op == "replace":
            lines[i] = s
        elif op == "dupline":
            lines.insert(i, lines[i])
        else:
            del lines[i]
    p = tmp_path_factory.mktemp("fz") / "r.csv"
    p.write_text("\n".join(lines))
    session = f"fz{next(_ids)}"
    rc = main(["import", str(p), "--runner", "fuzz", "--session", session, "--influx-timeout", "20"])
    out = capsys.readouterr()
    assert "Traceback" not in out.err, out.err
    assert rc in (0, 2, 3), (rc, out.err)
    if rc != 0:
        assert "gaitmon: error:" in out.err
    rows = influxd.rows(f'SELECT count("quality") FROM "gait_step" WHERE "session" = \'{session}\'', db=db)
    stored = int(rows[0]["count"]) if rows else 0
    if rc != 0:
        assert stored == 0 or "not stored" in out.err
