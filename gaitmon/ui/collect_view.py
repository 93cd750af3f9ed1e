"""Live terminal view of ``gaitmon collect`` (rich): one row per runner/sensor.

Per sensor (two lines, fits 80 columns): runner and sensor; link state, battery % and RSSI
(dBm); packets received and loss % (lost / (received + lost) packets); rejected packets and
reconnects; steps and cadence (spm = steps/min, median of the last steps); mean pelvic drop of the
last 10 left and right steps (degrees, positive = swing side lower); step latency p50 (s).
"""

from __future__ import annotations

import asyncio
import contextlib

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from gaitmon.pipeline.live import LivePipeline

__all__ = ["CollectView", "render_table"]

_STATE_STYLE = {"streaming": "green", "connecting": "yellow", "reconnecting": "yellow",
                "failed": "bold red", "stopped": "dim", "idle": "dim"}


def _num(v, fmt: str = "{:.1f}") -> str:
    return "–" if v is None else fmt.format(v)


def render_table(pipeline: LivePipeline, title: str = "gaitmon collect") -> Table:
    """A rich Table of every sensor in ``pipeline`` (pure rendering, no I/O).

    Two lines per sensor so that it fits an 80-column terminal."""
    table = Table(title=title, box=box.SIMPLE_HEAD, expand=False, header_style="bold",
                  pad_edge=False)
    table.add_column("runner\nsensor", overflow="fold", min_width=8, max_width=18)
    table.add_column("link\nbatt RSSI", no_wrap=True)
    table.add_column("packets\nlost", justify="right", no_wrap=True)
    table.add_column("rej\nreconn", justify="right", no_wrap=True)
    table.add_column("steps\ncadence", justify="right", no_wrap=True)
    table.add_column("drop L°\ndrop R°", justify="right", no_wrap=True)
    table.add_column("latency\np50 s", justify="right", no_wrap=True)
    stats = {s.key: s for s in pipeline.sensor_stats()}
    for session in pipeline.sessions:
        st = session.status
        ss = stats.get(session.spec.key)
        lat = None
        if ss is not None and ss.latencies:
            lat = sorted(ss.latencies)[len(ss.latencies) // 2]
        loss = 100.0 * st.loss_fraction
        who = Text(st.runner, style="bold")
        who.append("\n" + st.sensor, style="dim")
        link = Text(st.link_state, style=_STATE_STYLE.get(st.link_state, ""))
        link.append(f"\n{_num(st.battery_pct, '{:d}')}% {_num(st.rssi_dbm, '{:d}')} dBm")
        pk = Text(f"{st.packets_received}\n")
        pk.append(f"{loss:.1f}%", style="red" if loss > 5 else "")
        table.add_row(
            who, link, pk,
            f"{st.packets_rejected}\n{st.reconnects}",
            f"{ss.steps if ss else 0}\n{_num(ss.cadence_spm if ss else None, '{:.0f}')} spm",
            f"{_num(ss.side_mean('L') if ss else None)}\n{_num(ss.side_mean('R') if ss else None)}",
            _num(lat, "{:.3f}"),
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
