"""The HTML report in a real headless browser (Debian chromium): it renders, every figure loads,
no console errors; plus the CLI from a recording and from a steps CSV."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gaitmon.cli import main
from gaitmon.pipeline.step_files import write_steps
from gaitmon.sources.recording import write_recording

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)), true);
const _ce = console.error; console.error = (...a) => { window.__errors.push(a.join(' ')); _ce(...a); };
window.addEventListener('load', () => {
  const imgs = [...document.images].map(i => ({id: i.closest('figure').id, w: i.naturalWidth, h: i.naturalHeight,
                                                 done: i.complete}));
  const p = document.createElement('pre'); p.id = 'probe';
  p.textContent = JSON.stringify({imgs, errors: window.__errors, title: document.title,
                                  summary: document.querySelector('#summary').innerText.length});
  document.body.appendChild(p);
});
</script>"""


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.fail("chromium not found: install Debian's `chromium` (./dev.sh test does)")
    return exe


def _browser(tmp_path, *args):
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'chrome-profile'}",
           "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


@pytest.fixture(scope="module")
def run_steps():
    from gaitmon.core import analyze
    from gaitmon.sim import SimConfig, simulate

    rec = simulate(SimConfig(activity="run", fs=104.0, duration_s=150.0, seed=21, drop_left_deg=7.0,
                             drop_right_deg=4.5, drop_drift_deg_per_min=0.8))
    return rec, analyze(rec.time, rec.acc, rec.gyr, forward=rec.forward, up=rec.up).steps


def test_report_renders_in_chromium(tmp_path, run_steps):
    from gaitmon.report import build_report

    _, steps = run_steps
    html_path = build_report(steps, tmp_path / "rep", title="Track Tuesday",
                             previous=[{"label": "1 May", "L": 7.4, "R": 4.4}, {"label": "5 May", "L": 7.1, "R": 4.6}])
    page = html_path.read_text()
    assert "<script src" not in page and "http://" not in page and "https://" not in page  # self-contained
    pngs = sorted(p.name for p in (tmp_path / "rep").glob("*.png"))
    assert pngs == sorted(f"{n}.png" for n in ("drop_over_time", "distributions", "asymmetry", "drop_vs_cadence",
                                               "drift", "quality", "previous"))
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</head>", PROBE + "</head>", 1))
    r = _browser(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert m, r.stdout[-2000:]
    res = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert res["errors"] == []
    assert res["title"] == "Track Tuesday" and res["summary"] > 200
    assert len(res["imgs"]) == 7
    for img in res["imgs"]:
        assert img["done"] and img["w"] >= 500 and img["h"] >= 250, img
    assert not re.search(r"CONSOLE.*(error|Uncaught)", r.stderr, re.I)
    # the text says what the simulation holds: more drop on the left, rising with fatigue
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert rep["sides"]["L"]["mean"] - rep["sides"]["R"]["mean"] > 1.5
    assert rep["fatigue"]["flagged"] and rep["fatigue"]["sides"]["L"]["flagged"]
    assert any("larger when you stand on your left leg" in s for s in rep["summary"])
    assert any("flagged as fatigue" in s for s in rep["summary"])
    # a screenshot of the real rendering (kept next to the report for a human to look at)
    shot = tmp_path / "rep" / "screenshot.png"
    r = _browser(tmp_path, "--window-size=1000,2400", f"--screenshot={shot}", html_path.as_uri())
    assert r.returncode == 0 and shot.stat().st_size > 50_000


def test_report_cli_from_recording_and_steps_csv(tmp_path, run_steps, capsys, monkeypatch):
    monkeypatch.delenv("GAITMON_INFLUX_URL", raising=False)
    rec, steps = run_steps
    rpath = tmp_path / "run.csv.gz"
    write_recording(rpath, rec.time, rec.acc, rec.gyr, {"forward": rec.forward, "up": rec.up})
    assert main(["report", str(rpath), "--out-dir", str(tmp_path / "a"), "--title", "from recording"]) == 0
    spath = tmp_path / "steps.csv"
    write_steps(spath, steps)
    assert main(["report", str(spath), "--out-dir", str(tmp_path / "b")]) == 0
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    # the recording file rounds samples to 5 decimals: nearly the same steps either way
    assert abs(a["sides"]["L"]["mean"] - b["sides"]["L"]["mean"]) < 0.1
    assert "previous" not in [p.stem for p in (tmp_path / "b").glob("*.png")]
    assert "report →" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,foo\n1,2\n")
    assert main(["report", str(bad), "--out-dir", str(tmp_path / "c")]) == 2
    assert "missing column" in capsys.readouterr().err
    assert main(["report"]) == 2
