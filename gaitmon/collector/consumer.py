"""What the collector feeds, and who watches it: the protocols the layers above implement.

The collector produces :class:`~gaitmon.collector.session.SampleBlock` s (the samples of one
accepted notification; ``block.gap`` is the gap that precedes them, if any). It does not know
what happens to them: :func:`gaitmon.collector.app.run_collect` takes a :class:`ConsumerFactory`
and, optionally, a :class:`WatcherFactory`, and the program on top wires them in — ``gaitmon
collect`` passes :func:`gaitmon.pipeline.live.pipeline_factory` (the live pipeline: analysis and
sinks) and :class:`gaitmon.ui.collect_view.CollectView` (the live table). So the collector imports
neither the pipeline nor the ui.

Order of calls in one collection: ``factory(run_dir, status_interval_s=...)`` once the session
directory exists; ``add_session(s)`` for every sensor session before it starts; ``run()`` as a
task alongside the sessions, ``on_block(b)`` from the sessions (in the event loop: cheap); when
the sessions have ended, ``stop()`` and the ``run()`` task awaited (it drains and finishes); then
``stats()`` goes into ``run.json`` (key ``pipeline``) and :class:`~gaitmon.collector.app.CollectResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from .session import SampleBlock, SensorSession

__all__ = ["BlockConsumer", "ConsumerFactory", "Watcher", "WatcherFactory"]


class BlockConsumer(Protocol):
    """Receives the samples of every sensor session of a collection."""

    def add_session(self, session: SensorSession) -> None:
        """A sensor session of this collection (before it starts)."""
        ...

    def on_block(self, block: SampleBlock) -> None:
        """Samples arrived (after ``block.gap``, if any); called in the event loop, must be cheap."""
        ...

    async def run(self) -> None:
        """Work until :meth:`stop`; then drain what is queued and finish."""
        ...

    def stop(self) -> None:
        """Ask :meth:`run` to drain and return."""
        ...

    def stats(self) -> dict:
        """JSON-able statistics of the run (written to ``run.json``)."""
        ...


class ConsumerFactory(Protocol):
    def __call__(self, run_dir: Path, *, status_interval_s: float) -> BlockConsumer:
        """The consumer of one collection writing into ``run_dir`` (the session directory)."""
        ...


class Watcher(Protocol):
    """A live view of a collection (e.g. a terminal table), refreshed until :meth:`stop`."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


#: ``factory(consumer, title)`` -> the live view of a collection, shown while it runs
WatcherFactory = Callable[[BlockConsumer, str], Watcher]
