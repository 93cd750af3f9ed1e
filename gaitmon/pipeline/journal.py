"""A runner's local history in plain files, for gaitmon without a database.

``$GAITMON_HOME`` (default ``~/.local/share/gaitmon``) holds two append-only JSON-lines files:

- ``sessions.jsonl`` — one line per analysed session: runner, session, start (UTC ns), and per
  side the mean pelvic drop (deg, steps with quality ≥ 0.5) and step count, plus activity;
- ``exercise.jsonl`` — one line per strength-exercise entry: runner, exercise, time (UTC ns),
  sets, reps, hold seconds, side, note;
- ``run_pattern.jsonl`` — one line per session that had runs anchored by a walk: runner, session,
  how many of those runs showed the usual running drop pattern (the swing side drops) and how many
  the reversed one (the stance side drops). :func:`learned_run_pattern` turns a runner's lines into
  the prior that reads that runner's later runs without a walk (``side_source = run, learned
  pattern``).

`gaitmon analyze --runner NAME` and `gaitmon demo --runner NAME` append sessions,
`gaitmon exercise log` appends exercises when no InfluxDB is configured, and
`gaitmon trend --runner NAME` reads both when there is no InfluxDB. Lines that do not parse are
counted and reported, never silently used. Writing the same session twice is harmless (the last
line per runner+session wins).

Why in the pipeline and not in :mod:`gaitmon.cli`: the journal is where analysed sessions go when
there is no database — a sink of the core's steps beside the InfluxDB sinks (:mod:`.influx`), read
back by ``trend`` the way it reads InfluxDB; the commands only decide when to write or read it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("gaitmon.journal")  # the name its log lines had before the move

MIN_QUALITY = 0.5


def home() -> Path:
    """The journal directory ($GAITMON_HOME, else ~/.local/share/gaitmon)."""
    return Path(os.environ.get("GAITMON_HOME") or Path.home() / ".local" / "share" / "gaitmon")


@dataclass
class ReadResult:
    rows: list[dict]
    bad_lines: int


def _append(name: str, row: dict, directory: Path | None = None) -> Path:
    d = Path(directory) if directory else home()
    d.mkdir(parents=True, exist_ok=True)
    path = d / name
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, separators=(",", ":")) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path


def _read(name: str, directory: Path | None = None) -> ReadResult:
    path = (Path(directory) if directory else home()) / name
    if not path.exists():
        return ReadResult([], 0)
    rows, bad = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError
            rows.append(row)
        except ValueError:
            bad += 1
    if bad:
        log.warning("%s: %d unreadable line(s) skipped", path, bad)
    return ReadResult(rows, bad)


def _latest_per_session(name: str, runner: str, directory: Path | None, *required: str) -> dict[str, dict]:
    """The runner's lines of journal file ``name`` by session, the last line per session winning
    (a re-analysis); lines without a session or one of ``required`` are skipped."""
    latest: dict[str, dict] = {}
    for r in _read(name, directory).rows:
        if r.get("runner") == runner and "session" in r and all(k in r for k in required):
            latest[str(r["session"])] = r
    return latest


def session_row(steps, *, runner: str, session: str, start_ns: int) -> dict:
    """Journal line of one session from its steps (contract columns; degrees)."""
    row = {"runner": runner, "session": session, "start_ns": int(start_ns)}
    acts = [s.activity for s in steps if s.quality >= MIN_QUALITY]
    row["activity"] = max(set(acts), key=acts.count) if acts else None
    for side in ("L", "R"):
        d = [s.pelvic_drop_deg for s in steps if s.side == side and s.quality >= MIN_QUALITY]
        row[side] = {"mean_deg": round(sum(d) / len(d), 4) if d else None, "steps": len(d)}
    return row


def append_session(steps, *, runner: str, session: str, start_ns: int, directory: Path | None = None) -> Path:
    """Append one analysed session (see :func:`session_row`); returns the journal file."""
    return _append("sessions.jsonl", session_row(steps, runner=runner, session=session, start_ns=start_ns), directory)


def append_exercise(*, runner: str, exercise: str, t_ns: int, sets: int | None, reps: int | None,
                    hold_s: float | None, side: str | None, note: str | None, directory: Path | None = None) -> Path:
    """Append one strength-exercise entry (hold in seconds)."""
    return _append("exercise.jsonl", {"runner": runner, "exercise": exercise, "t_ns": int(t_ns), "sets": sets,
                                      "reps": reps, "hold_s": hold_s, "side": side, "note": note}, directory)


def session_drops(runner: str, *, activity: str | None = "run", directory: Path | None = None):
    """:class:`gaitmon.analysis.programme.SessionDrop` list of a runner from the journal."""
    from gaitmon.analysis.programme import SessionDrop

    latest = _latest_per_session("sessions.jsonl", runner, directory, "start_ns")
    out = []
    for r in latest.values():
        if activity and r.get("activity") not in (activity, None):
            continue
        for side in ("L", "R"):
            s = r.get(side) or {}
            if s.get("mean_deg") is not None and s.get("steps"):
                out.append(SessionDrop(r["session"], int(r["start_ns"]), side, float(s["mean_deg"]), int(s["steps"])))
    return sorted(out, key=lambda d: (d.start_ns, d.side))


def append_run_pattern(*, runner: str, session: str, verdicts, recording: str | None = None,
                       directory: Path | None = None) -> Path | None:
    """Record a session's verdicts on the running drop pattern (+1 usual, -1 the stance side drops;
    ``AnalysisResult.run_pattern_verdicts``) and the recording's file name; nothing is written for
    a session without any."""
    v = [int(x) for x in verdicts]
    if not v:
        return None
    return _append("run_pattern.jsonl", {"runner": runner, "session": session, "recording": recording,
                                         "usual": v.count(1), "reversed": v.count(-1)}, directory)


def run_pattern_counts(runner: str, directory: Path | None = None, exclude_recording: str | None = None) -> tuple[int, int]:
    """(usual, reversed) verdicts of the runner's sessions (the last line per session wins), not
    counting those of ``exclude_recording`` (a re-analysis must not learn from itself)."""
    latest = _latest_per_session("run_pattern.jsonl", runner, directory)
    if exclude_recording is not None:
        latest = {k: r for k, r in latest.items() if r.get("recording") != exclude_recording}
    try:
        return (sum(int(r.get("usual", 0)) for r in latest.values()),
                sum(int(r.get("reversed", 0)) for r in latest.values()))
    except (TypeError, ValueError):
        log.warning("run_pattern.jsonl: a line of %s has non-integer counts; the learned pattern is not used", runner)
        return (0, 0)


def learned_run_pattern(runner: str, directory: Path | None = None,
                        exclude_recording: str | None = None) -> tuple[float | None, int, int]:
    """(P(the runner's running drop pattern is reversed) or None when nothing was learned, usual
    count, reversed count) — the ``run_pattern_reversed`` for the core."""
    from gaitmon.core.sides import run_pattern_prior

    nu, nr = run_pattern_counts(runner, directory, exclude_recording)
    return (run_pattern_prior(nu, nr) if nu + nr else None), nu, nr


def exercise_times(runner: str, directory: Path | None = None) -> list[int]:
    """UTC ns of the runner's exercise entries in the journal."""
    return sorted(int(r["t_ns"]) for r in _read("exercise.jsonl", directory).rows
                  if r.get("runner") == runner and "t_ns" in r)
