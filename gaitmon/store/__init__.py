"""gaitmon.store — InfluxDB storage that never loses a step.

Public API (what the CLI/pipeline wires):

* :class:`StoreConfig` — ``StoreConfig.from_env(config_file=None)``: GAITMON_INFLUX_* settings.
* :func:`open_writer` -> :class:`StepWriter` — ``write_steps``, ``write_session_summary``,
  ``write_sensor_status``, ``write_exercise``, ``flush``, ``close``, ``stats``.
* :func:`import_recording_steps` — back-fill one analysed recording.
* :class:`GaitQuery` — InfluxQL read-back (sessions, weekly side means, summaries, steps).
* :func:`create_retention_policies` — InfluxDB 1.x retention policies.
* errors: :mod:`gaitmon.store.errors`.

Knows InfluxDB, not bleak: nothing here imports the collector or the core.
"""
from .config import Secret, StoreConfig
from .errors import (ApiMismatch, AuthError, ConfigError, PayloadTooLarge, PointsRejected, QueryError,
                     ServerError, ServerUnavailable, SpoolError, StoreError, TargetNotFound)
from .query import GaitQuery, SessionInfo, WeeklySideMean
from .retention import create_retention_policies
from .writer import StepWriter, WriterStats, import_recording_steps, open_writer

__all__ = [
    "StoreConfig", "Secret", "open_writer", "StepWriter", "WriterStats", "import_recording_steps",
    "GaitQuery", "SessionInfo", "WeeklySideMean", "create_retention_policies",
    "StoreError", "ConfigError", "SpoolError", "ServerError", "AuthError", "TargetNotFound",
    "ApiMismatch", "PointsRejected", "PayloadTooLarge", "QueryError", "ServerUnavailable",
]
