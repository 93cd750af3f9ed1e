"""Pure decoders/encoders of sensor BLE packets: bytes <-> samples in SI units (no I/O).

One module per protocol:

* :mod:`gaitmon.sensors.gaitmon_profile` — the open gaitmon IMU profile v1 (docs/ble-profile.md)
* :mod:`gaitmon.sensors.polar_pmd` — Polar Measurement Data (Verity Sense, OH1, H10)
* :mod:`gaitmon.sensors.movesense` — Movesense GATT SensorData Protocol
* :mod:`gaitmon.sensors.witmotion` — WitMotion WT9011DCL-BT50 (0x55 0x61 frames)
* :mod:`gaitmon.sensors.movella_dot` — Movella (Xsens) DOT Measurement Service (rate quantities)
* :mod:`gaitmon.sensors.metawear` — MbientLab MetaWear GATT command protocol (BMI160/BMI270)
* :mod:`gaitmon.sensors.sensorlogger_push` — Sensor Logger's HTTP push messages (JSON, not BLE)
* :mod:`gaitmon.sensors.standard` — Battery / Device Information services

All decoders return :class:`Packet` (acc m/s² specific force, gyr rad/s, mag µT, sensor frame,
times in seconds of the sensor clock) and raise only :class:`DecodeError` on bad input.
"""

from .base import REASONS, DecodeError, Decoder, Packet, WrapUnwrapper, seq_delta

__all__ = ["REASONS", "DecodeError", "Decoder", "Packet", "WrapUnwrapper", "seq_delta"]
