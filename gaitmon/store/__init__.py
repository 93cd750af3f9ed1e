"""gaitmon.store — InfluxDB storage that never loses a step.

Public API (what the CLI/pipeline wires):

* :class:`StoreConfig` — ``StoreConfig.from_env(config_file=None)``: GAITMON_INFLUX_* settings.
* :func:`open_writer` -> :class:`StepWriter` — ``write_steps``, ``write_session_summary``,
  ``write_sensor_status``, ``write_exercise``, ``flush``, ``close``, ``stats``.
* :func:`import_recording_steps` — back-fill one analysed recording.
* :class:`GaitQuery` — InfluxQL read-back (sessions, weekly side means, summaries, steps).
* :func:`create_retention_policies` — InfluxDB 1.x retention policies.
* errors: :mod:`gaitmon.store.errors`; ``gaitmon store ...`` commands: :mod:`gaitmon.cli.store`.

Knows InfluxDB, not bleak: nothing here imports the collector, the core, the pipeline or the
command line. Names are loaded on first use, so ``gaitmon.cli.store`` (mounted by every
``gaitmon`` run) stays cheap.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "StoreConfig": "config", "Secret": "config",
    "open_writer": "writer", "StepWriter": "writer", "WriterStats": "writer",
    "import_recording_steps": "writer",
    "GaitQuery": "query", "SessionInfo": "query", "WeeklySideMean": "query",
    "create_retention_policies": "retention",
    **{name: "errors" for name in ("StoreError", "ConfigError", "SpoolError", "ServerError", "AuthError",
                                   "TargetNotFound", "ApiMismatch", "PointsRejected", "PayloadTooLarge",
                                   "QueryError", "ServerUnavailable")},
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gaitmon.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs
    from .config import Secret, StoreConfig
    from .errors import (ApiMismatch, AuthError, ConfigError, PayloadTooLarge, PointsRejected, QueryError,
                         ServerError, ServerUnavailable, SpoolError, StoreError, TargetNotFound)
    from .query import GaitQuery, SessionInfo, WeeklySideMean
    from .retention import create_retention_policies
    from .writer import StepWriter, WriterStats, import_recording_steps, open_writer
