"""One deadline for a whole InfluxDB operation of a command.

A per-request socket timeout does not bound an operation: a server that trickles one byte a
second never trips it, and an operation makes many requests (ping, pre-flight writes, batches,
retries, queries). A command therefore starts one deadline for its InfluxDB work
(``with operation(seconds): ...``); every HTTP request made meanwhile — from any thread — gets at
most the time that is left, enforced as a wall-clock limit on the whole request (not per read),
and :meth:`StepWriter.flush`/``close`` never wait past it. Points not acknowledged by then stay
in the spool (nothing is lost) and the command says so.
"""
from __future__ import annotations

import contextlib
import math
import threading
import time

__all__ = ["operation", "begin", "budget", "remaining", "call_with_deadline", "DeadlineExceeded"]

_lock = threading.Lock()
_deadline: float | None = None  # time.monotonic() value, process-wide (sender threads too)
_depth = 0  # open operation() blocks: begin() only acts inside one, so it never outlives it


class DeadlineExceeded(TimeoutError):
    """The operation's time is up (raised by :func:`call_with_deadline`)."""


@contextlib.contextmanager
def operation(seconds: float | None):
    """Bound every InfluxDB request and wait inside the block to ``seconds`` in total (None: no
    bound). Nested blocks keep the earlier of the two deadlines."""
    global _deadline, _depth
    with _lock:
        saved = _deadline
        _depth += 1
        if seconds is not None:
            new = time.monotonic() + max(0.0, float(seconds))
            _deadline = new if saved is None else min(saved, new)
    try:
        yield
    finally:
        with _lock:
            _deadline = saved
            _depth -= 1


def begin(seconds: float) -> None:
    """Start (or shorten) the deadline of the current operation: the rest of the enclosing
    :func:`operation` block — for a command, the rest of the command (``gaitmon.cli.main`` opens
    one block per command and restores the previous state after it). Outside any block it does
    nothing: a library caller's deadline never outlives its call."""
    global _deadline
    with _lock:
        if _depth == 0:
            return
        new = time.monotonic() + max(0.0, float(seconds))
        _deadline = new if _deadline is None else min(_deadline, new)


def budget(default: float = 10.0) -> float:
    """GAITMON_INFLUX_TIMEOUT_S as configured (environment / $GAITMON_CONFIG), else ``default``."""
    try:
        from .config import StoreConfig

        return StoreConfig.from_env().timeout_s
    except Exception:  # noqa: BLE001 - the command reports a broken configuration itself
        return default


def remaining() -> float:
    """Seconds left of the current operation (inf when none is running)."""
    d = _deadline
    return math.inf if d is None else max(0.0, d - time.monotonic())


def call_with_deadline(fn, seconds: float):
    """Run ``fn()`` and return its result, or raise :class:`DeadlineExceeded` after ``seconds`` of
    wall-clock time, whatever ``fn`` is blocked in (the call is left to finish in a daemon thread;
    a stuck connection is never reused because its pool is told to discard it by the caller)."""
    if seconds == math.inf:
        return fn()
    box: dict = {}
    done = threading.Event()

    def run():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["error"] = e
        finally:
            done.set()

    t = threading.Thread(target=run, name="gaitmon-http-deadline", daemon=True)
    t.start()
    if not done.wait(max(0.0, seconds)):
        raise DeadlineExceeded(f"no complete answer within {seconds:.3g} s")
    if "error" in box:
        raise box["error"]
    return box["result"]
