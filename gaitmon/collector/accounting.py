"""Packet and sample accounting of one sensor session: lost packets, explicit gaps (pure).

Every accepted packet is checked against the previous one by its sequence number (wrapping
``seq_bits`` counter) and by its sample timestamps (seconds on the sensor clock):

* sequence delta 0 -> duplicate (rejected), delta in the upper half of the counter range ->
  an old, out-of-order packet (rejected);
* ``delta - 1`` packets were lost; the time gap ``round((t_first - (t_prev_last + dt)) / dt)``
  says how many samples are missing. Both are reported in a :class:`Gap`, never interpolated;
* after a reconnect the decoder starts afresh (and the sensor's clock counter may have wrapped
  during the outage): the first packet is placed on the session clock by choosing the number of
  clock wraps that the sequence numbers vouch for, else the one that best matches the host time
  elapsed since the last packet (scaled by the sensor-seconds-per-host-second rate measured
  over the previous connection: 1 for a live sensor, higher for a sped-up replay). If no choice
  fits, the sensor clock was reset (power cycle): the segment is re-anchored at the host-time
  estimate and the gap is reported with ``exact=False``.

Times in and out are seconds on the sensor clock; ``t_rec`` (recording time) is seconds since
the first sample of the session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Gap", "Accepted", "Rejected", "StreamAccountant"]


@dataclass(frozen=True)
class Gap:
    """Samples missing between two received packets.

    Attributes:
        t_before_s: recording time (s) of the last sample before the gap.
        t_after_s: recording time (s) of the first sample after it.
        samples_lost: samples the sensor produced that never arrived.
        packets_lost: packets missing by sequence number (None when not countable).
        cause: ``packet_loss`` (lost in the air), ``link_loss`` (during a reconnect),
            ``sensor_pause`` (the sensor produced no packets: time jumped, sequence did not),
            ``clock_reset`` (sensor clock restarted; sizes are host-time estimates).
        exact: False when the sizes are estimates.
    """

    t_before_s: float
    t_after_s: float
    samples_lost: int
    packets_lost: int | None
    cause: str
    exact: bool = True

    @property
    def duration_s(self) -> float:
        return self.t_after_s - self.t_before_s

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Accepted:
    t_sensor: np.ndarray  # float64[n] s, continuous session sensor clock
    t_rec: np.ndarray  # float64[n] s since the first sample of the session
    gap: Gap | None


@dataclass(frozen=True)
class Rejected:
    reason: str  # duplicate | out_of_order | time_overlap


class StreamAccountant:
    """Sequence/time continuity of one sensor session (across reconnects).

    Args:
        dt_s: nominal sample interval, s (from the sensor's configuration).
        seq_bits: width of the packet sequence counter (16 for the gaitmon profile).
        clock_wrap_s: period after which the sensor's timestamp counter wraps
            (2**32 µs = 4294.967296 s for the gaitmon profile), or None.
        reset_tolerance_s: after a reconnect, the first packet must land within
            ``max(reset_tolerance_s, 5 % of the outage)`` of the host-time estimate, else the
            sensor clock is considered reset.
    """

    def __init__(self, dt_s: float, *, seq_bits: int | None = 16, clock_wrap_s: float | None = None,
                 reset_tolerance_s: float = 2.0) -> None:
        if not dt_s > 0:
            raise ValueError("dt_s must be > 0")
        self.dt = float(dt_s)
        self.seq_mod = (1 << seq_bits) if seq_bits else None
        self.clock_wrap_s = clock_wrap_s
        self.reset_tolerance_s = float(reset_tolerance_s)
        self.origin: float | None = None  # sensor time of the session's first sample
        self.offset = 0.0  # added to decoder times to get continuous session sensor time
        self._last_seq: int | None = None
        self._last_t: float | None = None
        self._last_arrival: float | None = None
        self._reconnected = False
        self._conn_first: tuple[float, float] | None = None  # (t, arrival) of the connection
        self._rate = 1.0  # sensor seconds per host second, measured over a connection
        # counters
        self.packets_accepted = 0
        self.samples_accepted = 0
        self.packets_lost = 0
        self.samples_lost = 0
        self.clock_resets = 0
        self.gaps: list[Gap] = []

    def set_dt(self, dt_s: float) -> None:
        """The sensor's sample interval changed (reconfigured after a reconnect)."""
        if not dt_s > 0:
            raise ValueError("dt_s must be > 0")
        self.dt = float(dt_s)

    def mark_reconnect(self) -> None:
        """The link came back: the next packet starts a new connection segment."""
        if self._last_t is not None:
            self._update_rate()
            self._reconnected = True
        self._conn_first = None

    def _update_rate(self) -> None:
        """Sensor seconds per host second over the last connection (1.0 when too short):
        converts the host time of an outage into sensor time (1 for a live sensor; e.g. 8 for
        a stream replayed 8x faster than real time)."""
        if self._conn_first is None or self._last_t is None:
            return
        t0, a0 = self._conn_first
        host = self._last_arrival - a0
        if host >= 0.25 and self._last_t - t0 >= 0.5:
            self._rate = float(np.clip((self._last_t - t0) / host, 0.01, 1000.0))

    def accept(self, seq: int | None, t_s: np.ndarray, arrival_mono: float) -> Accepted | Rejected:
        """Check one decoded packet. ``t_s``: float64[n] sample times, s, decoder's sensor clock;
        ``arrival_mono``: host ``time.monotonic()`` at arrival."""
        t_s = np.asarray(t_s, dtype=np.float64)
        if self._last_t is None:  # the session's very first packet
            self.origin = float(t_s[0])
            return self._commit(seq, t_s, arrival_mono, None)

        if self._reconnected:
            return self._accept_after_reconnect(seq, t_s, arrival_mono)

        delta = None
        if seq is not None and self._last_seq is not None and self.seq_mod:
            delta = (int(seq) - self._last_seq) % self.seq_mod
            if delta == 0:
                return Rejected("duplicate")
            if delta >= self.seq_mod // 2:
                return Rejected("out_of_order")
        t_adj = t_s + self.offset
        expected = self._last_t + self.dt
        gap_samples = int(round((t_adj[0] - expected) / self.dt))
        if t_adj[0] < self._last_t - 1.0:
            # time went far back inside one connection: the sensor clock restarted
            return self._reanchor(seq, t_s, arrival_mono)
        if gap_samples < 0:
            return Rejected("time_overlap")
        packets_lost = (delta - 1) if delta is not None else None
        if packets_lost is not None and self.seq_mod and len(t_s):
            # a gap longer than the sequence period: add the whole wraps the time gap implies
            implied = gap_samples / len(t_s)
            wraps = int(round((implied - packets_lost) / self.seq_mod))
            if wraps > 0:
                packets_lost += wraps * self.seq_mod
        gap = None
        if gap_samples > 0 or (packets_lost or 0) > 0:
            cause = "packet_loss" if (packets_lost or 0) > 0 or packets_lost is None else "sensor_pause"
            gap = self._gap(t_adj[0], gap_samples, packets_lost, cause, True)
        return self._commit(seq, t_s, arrival_mono, gap)

    # ------------------------------------------------------------------------------ internals
    def _seq_consistent(self, seq, n: int, t0: float) -> bool:
        """Does the time gap before ``t0`` match the packets missing by sequence number?"""
        if seq is None or self._last_seq is None or not self.seq_mod or n == 0:
            return False
        missing = ((int(seq) - self._last_seq) % self.seq_mod) - 1
        gap_packets = (t0 - (self._last_t + self.dt)) / self.dt / n
        r = (gap_packets - missing) % self.seq_mod
        return min(r, self.seq_mod - r) <= 1.0

    def _accept_after_reconnect(self, seq, t_s, arrival_mono) -> Accepted | Rejected:
        elapsed = max(0.0, arrival_mono - self._last_arrival) * self._rate
        expected = self._last_t + elapsed  # host-time estimate of the sensor time now
        base = t_s[0] + self.offset
        cand_offsets = {self.offset}
        if self.clock_wrap_s:
            k = round((expected - base) / self.clock_wrap_s)
            cand_offsets |= {self.offset + j * self.clock_wrap_s for j in (k - 1, k, k + 1)}
        forward = [o for o in cand_offsets if t_s[0] + o > self._last_t]
        # 1) the sequence numbers vouch for a placement: trust it (host time may be a poor
        #    estimate, e.g. when the stream is replayed faster than real time)
        vouched = [o for o in forward if self._seq_consistent(seq, len(t_s), t_s[0] + o)]
        if vouched:
            best = min(vouched, key=lambda o: abs(t_s[0] + o - expected))
        else:
            # 2) otherwise the placement closest to host time, if close enough
            tol = max(self.reset_tolerance_s, 0.05 * elapsed)
            best = min(forward, key=lambda o: abs(t_s[0] + o - expected)) if forward else None
            if best is None or abs(t_s[0] + best - expected) > tol:
                return self._reanchor(seq, t_s, arrival_mono)
        self.offset = best
        self._reconnected = False
        t_adj = t_s + self.offset
        gap_samples = int(round((t_adj[0] - (self._last_t + self.dt)) / self.dt))
        packets_lost = None
        if seq is not None and self._last_seq is not None and self.seq_mod:
            packets_lost = ((int(seq) - self._last_seq) % self.seq_mod) - 1
            if len(t_s):
                implied = gap_samples / len(t_s)
                wraps = int(round((implied - packets_lost) / self.seq_mod))
                if wraps > 0:
                    packets_lost += wraps * self.seq_mod
            if packets_lost < 0:  # the very same packet again after reconnect
                return Rejected("duplicate")
        gap = None
        if gap_samples > 0 or (packets_lost or 0) > 0:
            gap = self._gap(t_adj[0], max(gap_samples, 0), packets_lost, "link_loss", True)
        return self._commit(seq, t_s, arrival_mono, gap)

    def _reanchor(self, seq, t_s, arrival_mono) -> Accepted:
        """Sensor clock reset: continue at the host-time estimate; sizes are estimates."""
        elapsed = max(0.0, arrival_mono - self._last_arrival) * self._rate
        expected = self._last_t + max(elapsed, self.dt)
        self.offset = expected - t_s[0]
        self._reconnected = False
        self.clock_resets += 1
        gap_samples = max(0, int(round((expected - (self._last_t + self.dt)) / self.dt)))
        gap = self._gap(expected, gap_samples, None, "clock_reset", False)
        return self._commit(seq, t_s, arrival_mono, gap)

    def _gap(self, t_first_after: float, samples: int, packets: int | None, cause: str,
             exact: bool) -> Gap:
        g = Gap(t_before_s=self._last_t - self.origin, t_after_s=float(t_first_after) - self.origin,
                samples_lost=int(samples), packets_lost=packets, cause=cause, exact=exact)
        self.gaps.append(g)
        self.samples_lost += g.samples_lost
        self.packets_lost += g.packets_lost or 0
        return g

    def _commit(self, seq, t_s, arrival_mono, gap) -> Accepted:
        t_adj = t_s + self.offset
        if self._conn_first is None:
            self._conn_first = (float(t_adj[-1]), float(arrival_mono))
        self._last_seq = int(seq) if seq is not None else None
        self._last_t = float(t_adj[-1])
        self._last_arrival = float(arrival_mono)
        self.packets_accepted += 1
        self.samples_accepted += len(t_s)
        return Accepted(t_sensor=t_adj, t_rec=t_adj - self.origin, gap=gap)
