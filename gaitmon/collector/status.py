"""Per-sensor status: the ``sensor_status`` record of the data contracts (pure).

One :class:`SensorStatus` per sensor session, updated by the collector and snapshotted by the
pipeline into its sinks (status file now, InfluxDB measurement ``sensor_status`` later).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["SensorStatus", "LINK_STATES"]

#: link states shown in the live view and written in the status records
LINK_STATES = ("idle", "connecting", "streaming", "reconnecting", "stopped", "failed")


@dataclass
class SensorStatus:
    """Health of one sensor's stream.

    Attributes:
        runner, sensor, session: identity (tags); ``sensor`` is the name or address.
        address: BLE address (or ``virtual:N``). kind: profile, e.g. ``gaitmon``.
        link_state: one of :data:`LINK_STATES`.
        battery_pct: battery level in percent (None if unknown).
        rssi_dbm: received signal strength in dBm (None if unknown).
        notifications: data notifications that arrived (accepted, rejected, or held by the
            decoder until a frame is complete: Polar pairs an ACC and a GYRO notification).
        packets_received / packets_lost / packets_rejected: decoded sample packets accepted,
            packets missing by sequence number (profiles without sequence numbers: 0, the loss
            shows in samples_lost), and notifications refused (``rejected_by_reason``).
        samples_received / samples_lost: IMU samples accepted / missing (explicit gaps).
        gaps: number of gaps; reconnects: successful reconnects after a link loss;
        connect_failures: connection attempts that failed.
        clock_drift_ppm: estimated sensor clock drift (positive = sensor clock slow);
        clock_suspect: True when the apparent drift is not physical (replay, clock jump).
        clock_resets: sensor clock restarts seen. model / firmware: from Device Information.
        sample_rate_hz: the stream's nominal rate. last_packet_utc: POSIX s of the newest packet.
    """

    runner: str
    sensor: str
    session: str
    address: str
    kind: str = "gaitmon"
    link_state: str = "idle"
    battery_pct: int | None = None
    rssi_dbm: int | None = None
    notifications: int = 0
    packets_received: int = 0
    packets_lost: int = 0
    packets_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    samples_received: int = 0
    samples_lost: int = 0
    gaps: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    clock_drift_ppm: float | None = None
    clock_suspect: bool = False
    clock_resets: int = 0
    model: str | None = None
    firmware: str | None = None
    sample_rate_hz: float | None = None
    last_packet_utc: float | None = None
    last_error: str | None = None

    def reject(self, reason: str) -> None:
        """Count one refused notification under ``reason``."""
        self.packets_rejected += 1
        self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + 1

    @property
    def loss_fraction(self) -> float:
        """Lost / (received + lost) packets, 0..1."""
        total = self.packets_received + self.packets_lost
        return self.packets_lost / total if total else 0.0

    def as_dict(self) -> dict:
        """A plain JSON-able dict (copy)."""
        d = asdict(self)
        d["rejected_by_reason"] = dict(self.rejected_by_reason)
        return d
