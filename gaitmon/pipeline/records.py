"""What the live pipeline hands its sinks: :class:`StepRecord` and the :class:`Sink` protocol.

Sink interface — what :class:`~gaitmon.pipeline.file_sink.FileSink` and the InfluxDB sink
(:class:`~gaitmon.pipeline.influx.InfluxCollectSink`) implement:

* ``write_steps(records: list[StepRecord])`` — finished steps (``StepRecord.step`` is the core's
  :class:`~gaitmon.core.Step`; ``t_ic_utc`` its IC in UTC, POSIX s; identity tags
  runner/sensor/session);
* ``write_status(statuses: list[SensorStatus], t_utc: float)`` — one snapshot of every sensor
  (``sensor_status``: battery %, RSSI, packets received/lost/rejected, reconnects...);
* ``close()`` — flush and release (called once, after the final status).

A sink may also have ``revise_steps(records)``: steps whose side was revised when their bout was
smoothed with its later evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gaitmon.collector.recorder import utc_iso
from gaitmon.collector.status import SensorStatus
from gaitmon.core.types import Step

__all__ = ["StepRecord", "Sink"]


@dataclass(frozen=True)
class StepRecord:
    """One finished step with its identity and timing.

    step: the core's Step (times on the recording clock: s since the sensor's first sample;
    angles in degrees, pelvis frame); t_ic_utc: the IC in UTC (POSIX s, from the sensor clock
    mapping); latency_s: host seconds from the arrival of the step's last sample to emission
    (None if unknown).
    """

    runner: str
    sensor: str
    session: str
    key: str
    step: Step
    t_ic_utc: float
    latency_s: float | None

    def as_row(self) -> dict:
        d = self.step.as_dict()
        d.update(sensor=self.sensor, session=self.session, time_utc=utc_iso(self.t_ic_utc),
                 latency_s=self.latency_s)
        return d


class Sink(Protocol):
    def write_steps(self, records: list[StepRecord]) -> None: ...

    def write_status(self, statuses: list[SensorStatus], t_utc: float) -> None: ...

    def close(self) -> None: ...
