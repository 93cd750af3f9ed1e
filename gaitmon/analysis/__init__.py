"""Statistics for the runner and the physio (no I/O except :mod:`gaitmon.analysis.influx`).

- :mod:`~gaitmon.analysis.stats` — slope with an autocorrelation-robust 95 % CI, bootstrap of a
  before/after difference.
- :mod:`~gaitmon.analysis.distance` — step length / speed / distance estimates (documented models).
- :mod:`~gaitmon.analysis.fatigue` — drift of pelvic drop over one session (time and distance).
- :mod:`~gaitmon.analysis.programme` — weekly per-side drop, exercise adherence, before/after
  effect of a strength programme.
- :mod:`~gaitmon.analysis.influx` — reading/writing those from/to InfluxDB (gaitmon.store).

Units: pelvic drop in degrees (pelvis frame, positive = swing side lower), time in s (or UTC ns
where named ``*_ns``), distance in m, speed in m/s.
"""
