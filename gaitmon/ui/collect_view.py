"""Live terminal view of ``gaitmon collect`` (rich): one row per runner/sensor.

Columns: runner, sensor, link state, battery %, RSSI dBm, packets received, loss % (lost /
(received + lost) packets), rejected packets, reconnects, steps, cadence (spm = steps/min, median
of the last steps), mean pelvic drop of the last 10 left and right steps (degrees, positive =
swing side lower), and step latency p50 (s).
"""

from __future__ import annotations

import asyncio
import contextlib

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from gaitmon.pipeline import LivePipeline

__all__ = ["CollectView", "render_table"]

_STATE_STYLE = {"streaming": "green", "connecting": "yellow", "reconnecting": "yellow",
                "failed": "bold red", "stopped": "dim", "idle": "dim", "scanning": "yellow"}


def _num(v, fmt: str = "{:.1f}") -> str:
    return "–" if v is None else fmt.format(v)


def render_table(pipeline: LivePipeline, title: str = "gaitmon collect") -> Table:
    """A rich Table of every sensor in ``pipeline`` (pure rendering, no I/O)."""
    table = Table(title=title, expand=False, header_style="bold")
    for col, just in (("runner", "left"), ("sensor", "left"), ("link", "left"), ("batt%", "right"),
                      ("RSSI", "right"), ("pkts", "right"), ("loss%", "right"),
                      ("rej", "right"), ("recon", "right"), ("steps", "right"),
                      ("spm", "right"), ("dropL°", "right"), ("dropR°", "right"),
                      ("lat s", "right")):
        table.add_column(col, justify=just, no_wrap=col not in ("runner", "sensor"),
                         overflow="fold")
    stats = {s.key: s for s in pipeline.sensor_stats()}
    for session in pipeline.sessions:
        st = session.status
        ss = stats.get(session.spec.key)
        lat = None
        if ss is not None and ss.latencies:
            lat = sorted(ss.latencies)[len(ss.latencies) // 2]
        loss = 100.0 * st.loss_fraction
        table.add_row(
            st.runner, st.sensor,
            Text(st.link_state, style=_STATE_STYLE.get(st.link_state, "")),
            _num(st.battery_pct, "{:d}"), _num(st.rssi_dbm, "{:d}"),
            str(st.packets_received),
            Text(f"{loss:.1f}", style="red" if loss > 5 else ""),
            str(st.packets_rejected), str(st.reconnects),
            str(ss.steps if ss else 0),
            _num(ss.cadence_spm if ss else None, "{:.0f}"),
            _num(ss.side_mean("L") if ss else None),
            _num(ss.side_mean("R") if ss else None),
            _num(lat, "{:.2f}"),
        )
    return table


class CollectView:
    """Refreshes :func:`render_table` in place until :meth:`stop` (or task cancellation)."""

    def __init__(self, pipeline: LivePipeline, *, title: str = "gaitmon collect",
                 console: Console | None = None, refresh_hz: float = 4.0) -> None:
        self.pipeline = pipeline
        self.title = title
        self.console = console or Console(stderr=True)
        self.refresh_hz = float(refresh_hz)
        self._stop = asyncio.Event()

    def _render(self):
        return Group(render_table(self.pipeline, self.title),
                     Text("Ctrl-C stops the session (files are flushed and closed).", style="dim"))

    async def run(self) -> None:
        with Live(self._render(), console=self.console, refresh_per_second=self.refresh_hz,
                  transient=False) as live:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=1.0 / self.refresh_hz)
                live.update(self._render())

    def stop(self) -> None:
        self._stop.set()
