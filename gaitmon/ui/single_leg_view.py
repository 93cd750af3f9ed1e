"""What the runner sees during and after ``gaitmon test single-leg``: the countdown line
(refreshed in place while the samples arrive), the plain-language result and the link note.

Pure presentation: the samples come from :mod:`gaitmon.pipeline.single_leg`, which drives the
countdown through :meth:`Countdown.running`; the numbers from
:func:`gaitmon.core.singleleg.analyze_single_leg`. ``side`` is the STANCE leg (the one you stand on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.live import Live
from rich.text import Text

from gaitmon.core.singleleg import MAX_HOLD_S, SingleLegResult

__all__ = ["Countdown", "prompt", "describe", "link_note", "LEG", "OTHER"]

LEG = {"L": "LEFT", "R": "RIGHT"}
OTHER = {"L": "RIGHT", "R": "LEFT"}


def describe(res: SingleLegResult) -> list[str]:
    """Plain-language lines for the terminal."""
    free = OTHER[res.side].lower()
    lines = [f"Standing on your {LEG[res.side].lower()} leg you held {res.hold_s:.1f} s"
             + (" — the full test." if res.completed else f" (of {MAX_HOLD_S:.0f} s).")]
    if res.drop_deg >= 0:
        lines.append(f"Your {free} hip sank {res.drop_deg:.1f}° below its level on two legs "
                     "(Trendelenburg-style pelvic drop; the hip muscles of the standing leg hold the pelvis).")
    else:
        lines.append(f"Your {free} hip rose {-res.drop_deg:.1f}° above its level on two legs (hip hitched up: "
                     "no drop).")
    lines.append(f"Sway: {res.sway_rms_deg:.2f}° RMS, {res.sway_velocity_dps:.1f}°/s on average.")
    if res.quality < 0.7 or res.notes:
        lines.append("Note: " + "; ".join(res.notes or ["lower measurement quality"]))
    return lines


def prompt(tnow: float, t_off: float, side: str) -> Text:
    """The countdown line at ``tnow`` s into the test (foot off expected at ``t_off`` s)."""
    if tnow < t_off - 3:
        return Text(f"Stand still on BOTH legs … {t_off - tnow:4.1f} s", style="bold")
    if tnow < t_off:
        return Text(f"Get ready to lift your {OTHER[side]} foot in {t_off - tnow:3.0f} s", style="bold yellow")
    left = MAX_HOLD_S - (tnow - t_off)
    if left > 0:
        return Text(f"Stand on your {LEG[side]} leg — {left:4.0f} s left   "
                    + "█" * int(left) + "░" * int(MAX_HOLD_S - int(left)), style="bold green")
    return Text("Put your foot down and stand still.", style="bold")


def link_note(packets_lost: int, packets_rejected: int) -> str | None:
    """Rich markup saying what the radio lost during a live test (None when nothing)."""
    if packets_lost or packets_rejected:
        return (f"[yellow]link:[/] {packets_lost} packets lost, {packets_rejected} rejected "
                "(gaps are kept as gaps)")
    return None


class Countdown:
    """The countdown of one test on ``console``, standing on ``side``."""

    def __init__(self, console, side: str) -> None:
        self.console = console
        self.side = side

    @contextmanager
    def running(self, t_off: float, *, connecting: bool = False) -> Iterator[Callable[[float], None]]:
        """Show the countdown (foot off at ``t_off`` s) in place; yields ``show(tnow)`` for the
        current test time. ``connecting``: start with "connecting to the sensor …" instead of the
        first countdown line. A blank line follows when the test ends without an error."""
        first = Text("connecting to the sensor …") if connecting else prompt(0.0, t_off, self.side)
        with Live(first, console=self.console, refresh_per_second=8, transient=False) as live:
            yield lambda tnow: live.update(prompt(tnow, t_off, self.side))
        self.console.print()
