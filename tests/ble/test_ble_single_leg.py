"""`gaitmon test single-leg --sensor ADDRESS`: the live single-leg stance test through bleak's real
BlueZ backend against the simulated BlueZ (bytes of the open gaitmon profile, samples from the
single-leg simulator with known truth), pushed 6x faster than real time."""

from __future__ import annotations

import json

import numpy as np

from gaitmon.cli import main
from gaitmon.sensors import gaitmon_profile as gp
from gaitmon.sim.singleleg import SingleLegConfig, simulate_single_leg

ADDR = "C0:FF:EE:00:00:5E"


def test_single_leg_test_live_over_ble(bluez, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GAITMON_INFLUX_URL", raising=False)
    rec = simulate_single_leg(SingleLegConfig(side="R", drop_deg=5.0, hold_s=30.0, seed=4))
    t = rec.time - rec.time[0]
    cfg = gp.GaitmonConfig(rate_hz=104, acc_range_g=16, gyro_range_dps=2000, forward=rec.forward, up=rec.up,
                           model="gaitmon-sim")
    packets = gp.packetize(t, rec.acc, rec.gyr, 104, 16, 2000)
    bluez.add_peripheral(ADDR, "gaitmon-SL", config=bytes(gp.encode_config(cfg)), battery=90, rssi=-50)
    assert bluez.load_stream(ADDR, packets, 104 / 10 * 6.0) == len(packets)
    out = tmp_path / "sl.json"
    rc = main(["test", "single-leg", "--side", "R", "--sensor", ADDR, "--runner", "ann",
               "--record-dir", str(tmp_path / "raw"), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    r = json.loads(out.read_text())
    tr = rec.truth
    assert r["side"] == "R" and r["source"].startswith("BLE sensor")
    assert abs(r["drop_deg"] - tr.drop_deg) < 0.6, (r["drop_deg"], tr.drop_deg)
    assert abs(r["hold_s"] - min(tr.hold_s, 30.0)) < 0.5
    raw = list((tmp_path / "raw").glob("single-leg-R-*.csv"))
    assert len(raw) == 1 and raw[0].read_text().count("\n") > 0.95 * len(t)
    stats = bluez.stats_sync(ADDR)
    assert stats["delivered"] >= 0.95 * len(packets)
    assert np.isfinite(r["sway_rms_deg"])
