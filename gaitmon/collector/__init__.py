"""gaitmon collector: BLE sensors -> decoded, accounted, recorded sample blocks.

bleak scan/connect/notify (:class:`BleakLink`), or an in-process virtual sensor
(:class:`VirtualLink`) behind the same small :class:`Link` interface; one
:class:`SensorSession` per sensor (reconnect with backoff, explicit gaps, clock drift, raw
recording, status). Entry points are in :mod:`gaitmon.collector.app` (``scan``, ``run_collect``);
where the samples go is injected (:mod:`gaitmon.collector.consumer`: the command line passes the
live pipeline). Knows bleak, not InfluxDB, the pipeline or the terminal views.
"""

from .accounting import Gap, StreamAccountant
from .clock import ClockMapper, HostClock
from .config import CollectConfig, ConfigError, SensorEntry
from .link import Link, LinkError
from .session import ReconnectPolicy, SampleBlock, SensorSession, SensorSpec
from .status import SensorStatus

__all__ = ["Gap", "StreamAccountant", "ClockMapper", "HostClock", "CollectConfig", "ConfigError",
           "SensorEntry", "Link", "LinkError", "ReconnectPolicy", "SampleBlock", "SensorSession",
           "SensorSpec", "SensorStatus"]
