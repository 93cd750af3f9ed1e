"""Start and drive the simulated BlueZ (private dbus-daemon + python-dbusmock) used by tests/ble.

The simulator runs under the Debian system python (python3-dbusmock, python3-dbus, python3-gi);
the tests talk to it from the project venv over D-Bus with ``dbus_fast`` (bleak's own D-Bus
library), through the ``org.bluez.Mock`` interface defined in ``bluez_gaitmon_template.py``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "bluez_gaitmon_template.py"
SYSTEM_PYTHON = "/usr/bin/python3"

SESSION_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
</busconfig>
"""


class SimUnavailable(RuntimeError):
    pass


def check_prerequisites() -> None:
    """Fail (never skip) with a message naming ./dev.sh test when a system part is missing."""
    missing = []
    if shutil.which("dbus-daemon") is None:
        missing.append("dbus-daemon (Debian package 'dbus')")
    if not Path(SYSTEM_PYTHON).exists():
        missing.append(SYSTEM_PYTHON)
    else:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import dbusmock, dbus, gi.repository.GLib"],
            capture_output=True, text=True,
        )
        if probe.returncode != 0:
            missing.append("python3-dbusmock / python3-dbus / python3-gi for " + SYSTEM_PYTHON
                           + f" ({probe.stderr.strip().splitlines()[-1] if probe.stderr else ''})")
    if missing:
        raise SimUnavailable(
            "The simulated BlueZ needs: " + "; ".join(missing)
            + ". Run the tests with ./dev.sh test (it apt-installs dbus python3-dbus python3-gi "
            "python3-dbusmock)."
        )


class BluezSim:
    """A private D-Bus bus with a simulated org.bluez on it."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.address = ""
        self._daemon: subprocess.Popen | None = None
        self._mock: subprocess.Popen | None = None
        self.mock_log = self.workdir / "dbusmock.log"

    # -------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        check_prerequisites()
        self.workdir.mkdir(parents=True, exist_ok=True)
        socket = self.workdir / "bus.sock"
        conf = self.workdir / "bus.conf"
        conf.write_text(SESSION_CONF.format(socket=socket))
        self._daemon = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--nosyslog", f"--config-file={conf}", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self._daemon.stdout is not None
        self.address = self._daemon.stdout.readline().strip()
        if not self.address:
            err = self._daemon.stderr.read() if self._daemon.stderr else ""
            raise SimUnavailable(f"dbus-daemon did not start: {err}")
        env = dict(os.environ)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        env.pop("PYTHONPATH", None)
        log = open(self.mock_log, "wb")  # noqa: SIM115 - lives as long as the process
        self._mock = subprocess.Popen(
            [SYSTEM_PYTHON, "-m", "dbusmock", "--system", "--template", str(TEMPLATE)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(self.workdir),
        )
        deadline = time.monotonic() + 20
        while True:
            if self._mock.poll() is not None:
                raise SimUnavailable("dbusmock exited: " + self.mock_log.read_text(errors="replace"))
            try:
                self.call_sync("/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", [])
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        for proc in (self._mock, self._daemon):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)

    # ---------------------------------------------------------------------------------- calls
    async def call(self, path: str, interface: str, member: str, signature: str,
                   body: list[Any]) -> list[Any]:
        bus = await MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect()
        try:
            reply = await bus.call(Message(destination="org.bluez", path=path, interface=interface,
                                           member=member, signature=signature, body=body))
        finally:
            bus.disconnect()
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{member}: {reply.error_name}: {reply.body}")
        return reply.body

    def call_sync(self, path: str, interface: str, member: str, signature: str,
                  body: list[Any]) -> list[Any]:
        return asyncio.run(self.call(path, interface, member, signature, body))

    async def mock(self, member: str, signature: str, *args: Any) -> Any:
        body = await self.call("/", "org.bluez.Mock", member, signature, list(args))
        return body[0] if len(body) == 1 else body

    def mock_sync(self, member: str, signature: str, *args: Any) -> Any:
        return asyncio.run(self.mock(member, signature, *args))

    # ----------------------------------------------------------------------------- conveniences
    def add_adapter(self, name: str = "hci0") -> str:
        existing = self.call_sync("/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", [])[0]
        path = "/org/bluez/" + name
        if path in existing:
            return path
        return self.mock_sync("AddAdapter", "ss", name, "gaitmon-test")

    def add_peripheral(self, address: str, name: str, *, adapter: str = "hci0", **options: Any) -> str:
        sig = {"kind": "s", "rssi": "n", "config": "ay", "battery": "y", "battery_gatt": "b",
               "model": "s", "firmware": "s", "manufacturer": "s", "mtu": "q", "uuids": "as"}
        opts = {k: Variant(sig[k], bytes(v) if sig[k] == "ay" else v) for k, v in options.items()}
        return self.mock_sync("AddPeripheral", "sssa{sv}", adapter, address, name, opts)

    def load_stream(self, address: str, packets: list[bytes], packets_per_second: float) -> int:
        f = self.workdir / f"stream_{address.replace(':', '')}_{time.monotonic_ns()}.hex"
        f.write_text("\n".join(p.hex() for p in packets) + "\n")
        return self.mock_sync("LoadStream", "ssd", address, str(f), float(packets_per_second))

    def set_loss(self, address: str, indices: list[int]) -> None:
        self.mock_sync("SetLoss", "sai", address, [int(i) for i in indices])

    async def drop_link(self, address: str, down_s: float) -> None:
        await self.mock("DropLink", "sd", address, float(down_s))

    async def refuse_connects(self, address: str, count: int) -> None:
        await self.mock("RefuseConnects", "si", address, int(count))

    async def push_raw(self, address: str, value: bytes) -> None:
        await self.mock("PushRaw", "say", address, bytes(value))

    async def set_rssi(self, address: str, rssi: int) -> None:
        await self.mock("SetRSSI", "sn", address, int(rssi))

    async def set_battery(self, address: str, percent: int) -> None:
        await self.mock("SetBattery", "sy", address, int(percent))

    async def stats(self, address: str) -> dict[str, Any]:
        raw = await self.mock("GetStreamStats", "s", address)
        return {k: v.value for k, v in raw.items()}

    def stats_sync(self, address: str) -> dict[str, Any]:
        return asyncio.run(self.stats(address))
