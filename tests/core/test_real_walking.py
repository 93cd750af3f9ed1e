"""Real lower-back walking: contacts and sides against foot-sensor / INDIP references, per person.

Two sets (see tests/core/real_data.py): the Mobilise-D participant HA001 shipped in tests/data, and
six L5 walkers (Voisard et al. 2023, AGPL-3.0, read from ``../shared/data/real-walking-l5`` or
``$GAITMON_L5_DIR``; that test is skipped where the folder is absent). One-to-one matching within
±0.2 s inside the reference bouts.

Held out: the parameters chosen on these data (walking smoothing, peak prominence, side-cue
window and yaw phase) are re-chosen on six people and judged on the seventh
(``leave_one_person_out``); the README's table is this test's output (``python -m benchmarks
walking``). The bounds asserted here are the ones the README states.
"""

import pytest

from tests.core.real_data import L5_DIR, aggregate, leave_one_person_out, run_trials, trials


def test_mobilised_participant_with_default_parameters():
    """HA001 is the exception among the 26 real walkers known to gaitmon (7 here, 19 in issue 11):
    the obliquity pattern is reversed in parts of the daily-life course (Test 11) — the way a
    runner whose stance side drops would be. Its sides were 89 % right with the obliquity and yaw
    cues; the sideways force before each contact (the weight shifting onto the landing foot: right for
    97 % of its steps) outvotes the reversed obliquity with the yaw: 91.8 % (94.5 % held out). The
    wrong ones are flagged uncertain (side_confidence < 0.9; 1.4 % of steps were wrong and sure
    before), and the straight walks (Test 5) are right."""
    rows = run_trials(None, [t for t in trials() if t.person == "HA001"])["HA001"]
    m = aggregate(rows)
    assert m["n_ref"] == 81
    assert m["f1"] >= 0.91, m
    assert m["median_abs_err_s"] <= 0.030, m
    assert m["side_acc"] >= 0.91, m
    assert m["confident_wrong"] <= 0.02, m  # 0 (1.4 % before the sideways-force cue)
    straight = aggregate([r for t, r in zip([t for t in trials() if t.person == "HA001"], rows) if "Test5" in t.name])
    assert straight["side_acc"] >= 0.99, straight


@pytest.mark.skipif(not L5_DIR.is_dir(), reason=f"L5 walking set not found at {L5_DIR} (set GAITMON_L5_DIR)")
def test_real_walking_leave_one_person_out():
    res = leave_one_person_out()
    held = res["held_out"]
    assert held["n_ref"] == 1245
    # the issue-11 targets: sides >= 97 % (measured 98.4 %, 97.98 % before the sideways-force cue;
    # 98.2 % before walks' closing contacts were found — those steps and the turn steps they recover
    # are harder — and 97.55 % before a walk's sides were carried through steps called running),
    # F1 >= 0.96 (0.961)
    assert held["side_acc"] >= 0.98, held
    assert held["median_abs_err_s"] <= 0.040, held
    assert held["f1"] >= 0.96, held
    # 'sure' (side_confidence >= 0.9) means sure: 0.17 % of steps wrong and sure (0.7 % before steps
    # without evidence of their own — turning — and the step after them were capped at 0.85)
    assert held["confident_wrong"] <= 0.003, held
    for person, d in res["per_person"].items():
        h = d["held_out"]
        # the target, every person >= 90 %: every L5 walker >= 93 %, HA001 (see above) 94.5 %
        # held out (87.7 % before the sideways-force cue)
        assert h["side_acc"] >= (0.91 if person == "HA001" else 0.93), (person, h)
        assert h["confident_wrong"] <= 0.02, (person, h)
        assert h["f1"] >= 0.91, (person, h)


def test_no_contact_is_reported_twice():
    """Consecutive contacts are at least 0.2 s apart in every real walk (a contact that arrived while a
    stop was being closed was once also found as that walk's closing contact: S09_T5, S09_T6, S15_T3)."""
    import numpy as np

    from gaitmon.core import analyze
    from gaitmon.sources.recording import read_recording

    for tr in trials():
        rec = read_recording(tr.csv)
        res = analyze(rec.time, rec.acc, rec.gyr, forward=tr.ref["forward"], up=tr.ref["up"])
        t = np.array([s.t_ic_s for s in res.steps])
        assert len(t) > 5 and np.all(np.diff(t) >= 0.2), (tr.name, t[1:][np.diff(t) < 0.2])
