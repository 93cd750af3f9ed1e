"""The v2 write path (influxdb-client -> /api/v2/write) against a real VictoriaMetrics."""
from __future__ import annotations

import math

import pytest

from gaitmon.store import AuthError, open_writer
from gaitmon.store.lineproto import STEP_FLOAT_FIELDS, point_time_ns
from tests.servers import VictoriaMetrics
from tests.store.conftest import fast_cfg
from tests.store.helpers import FlakyProxy, tile_steps


@pytest.mark.parametrize("gzip", [True, False])
def test_v2_write_lands_in_victoria_metrics(gzip, victoria, tmp_path, sim_steps, t0_ns):
    steps = tile_steps(sim_steps, 600)
    session = f"vm-{gzip}-{t0_ns}"
    with FlakyProxy(victoria.url) as proxy:
        cfg = fast_cfg(proxy.url, tmp_path, bucket="gait", org="club", api="auto", gzip=gzip)
        with open_writer(cfg) as w:
            w.write_steps(steps, sensor="s1", session=session, t0_unix_ns=t0_ns)
            w.write_session_summary({"steps": 600, "L": {"mean": 5.0}}, sensor="s1", session=session,
                                    t_unix_ns=t0_ns + 10**12)
            assert w.flush(20)
            st = w.stats
    assert st.api == "v2" and st.sent == 601
    assert proxy.encodings and set(proxy.encodings) == {"gzip" if gzip else None}
    sel = f'{{__name__="gait_step_pelvic_drop_deg", session="{session}"}}'
    series = victoria.export(sel, min_samples=600)
    assert {s["metric"]["side"] for s in series} == {"L", "R"}
    got = {}
    for s in series:
        assert s["metric"]["runner"] == "alice" and s["metric"]["activity"] == "run"
        for v, t in zip(s["values"], s["timestamps"]):
            got[(s["metric"]["side"], t)] = v
    want = {(s["side"], point_time_ns(t0_ns, s["t_ic_s"]) // 10**6): s["pelvic_drop_deg"] for s in steps}
    # every step at its ms time; VictoriaMetrics keeps 12 significant decimal digits of a float
    assert got.keys() == want.keys()
    assert got == pytest.approx(want, rel=1e-11, abs=0)
    for field in STEP_FLOAT_FIELDS + ("stride_index",):
        n = sum(math.isfinite(s[field]) for s in steps)          # NaN fields are not written
        sel = f'{{__name__="gait_step_{field}", session="{session}"}}'
        assert sum(len(s["values"]) for s in victoria.export(sel, min_samples=n)) == n, field
    summ = victoria.export(f'{{__name__="gait_session_L_mean", session="{session}"}}', min_samples=1)
    assert summ[0]["values"] == [5.0]


def test_v2_basic_auth_and_wrong_credentials(tmp_path, sim_steps, t0_ns):
    with VictoriaMetrics(auth=("gaitmon", "right-pass")) as vm:
        good = fast_cfg(vm.url, tmp_path / "a", bucket="gait", username="gaitmon",
                        password=_secret("right-pass"))
        with open_writer(good) as w:
            w.write_steps(sim_steps, sensor="s", session="auth-ok", t0_unix_ns=t0_ns)
            assert w.flush(20)
        landed = vm.export('{__name__="gait_step_step_time_s", session="auth-ok"}', min_samples=len(sim_steps))
        assert sum(len(s["values"]) for s in landed) == len(sim_steps)

        bad = fast_cfg(vm.url, tmp_path / "b", bucket="gait", username="gaitmon",
                       password=_secret("wrong-pass"))
        with pytest.raises(AuthError, match="GAITMON_INFLUX_USER / GAITMON_INFLUX_PASSWORD") as e:
            open_writer(bad)
        assert "wrong-pass" not in str(e.value)
        token = fast_cfg(vm.url, tmp_path / "c", bucket="gait", token=_secret("tok-wrong"))
        with pytest.raises(AuthError, match="GAITMON_INFLUX_TOKEN") as e:
            open_writer(token)
        assert "tok-wrong" not in str(e.value)


def _secret(value):
    from gaitmon.store import Secret
    return Secret(value)
