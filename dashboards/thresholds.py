"""Reference values shared by the dashboards (colour bands) and the alert rules (defaults).

Degrees are contralateral pelvic drop in the pelvis frame (positive = swing side lower), as in
data-contracts §3. The bands are coaching defaults, not diagnoses: running studies report
typical peak drop of roughly 4–7°, with larger values associated with hip/knee overuse problems.
Per-runner alert thresholds live in ``deploy/grafana/alert-thresholds.toml``.
"""
from __future__ import annotations

#: drop at or above this is shown yellow (deg)
DROP_WARN_DEG = 6.0
#: drop at or above this is shown red; default "sustained drop" alert threshold (deg)
DROP_HIGH_DEG = 8.0
#: |mean L − mean R| shown yellow / red; default asymmetry alert threshold = red (deg)
ASYM_WARN_DEG = 1.5
ASYM_HIGH_DEG = 3.0
#: rise of the 5-minute mean drop within a run shown yellow / red; fatigue alert = red (deg)
DRIFT_WARN_DEG = 1.0
DRIFT_HIGH_DEG = 2.0
#: change of the latest session against the 4-week baseline shown yellow / red (deg)
BASELINE_WARN_DEG = 1.0
BASELINE_HIGH_DEG = 2.0
#: sensor battery low (%), packet loss high (% of packets)
BATTERY_LOW_PCT = 20.0
PACKET_LOSS_HIGH_PCT = 5.0
#: steps below this quality are not summarised (gaitmon.core.summary.MIN_QUALITY)
MIN_QUALITY = 0.5
