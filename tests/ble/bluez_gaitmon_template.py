"""python-dbusmock template: a simulated BlueZ (org.bluez) serving gaitmon IMU peripherals.

Run under the *system* python (Debian python3-dbusmock, python3-dbus, python3-gi)::

    /usr/bin/python3 -m dbusmock --system --template tests/ble/bluez_gaitmon_template.py

on a private bus (DBUS_SYSTEM_BUS_ADDRESS pointing at it). bleak's real BlueZ backend talks to it
exactly as to bluetoothd. The test drives it through ``org.bluez.Mock`` on ``/``:

- ``AddAdapter(name, alias)``                       -> adapter path (``/org/bluez/hci0``)
- ``AddPeripheral(adapter, address, name, options)`` -> device path. ``options`` (a{sv}):
  ``kind`` ('gaitmon' | 'movella_dot' | 'metawear' | 'other'), ``uuids`` (as, advertised), ``rssi`` (n), ``config`` (ay, the
  gaitmon Config characteristic value), ``battery`` (y), ``battery_gatt`` (b: expose the 0x180F
  service over GATT as with ``bluetoothd -P battery``; default False = BlueZ's battery plugin
  hides it and exports ``org.bluez.Battery1`` instead), ``model``/``firmware``/``manufacturer`` (s),
  ``mtu`` (q).
  A ``movella_dot`` peripheral serves the DOT measurement service (XD0506P): ``config`` is its
  32-byte device control value (output rate); ``[1, 1, 21]`` on the control characteristic starts
  the stream of precomputed Rate quantities payloads on the medium payload characteristic,
  ``[1, 0, x]`` stops it. A ``metawear`` peripheral serves the MetaWear command/notify pair:
  ``config`` is one byte, the Bosch ODR code of the precomputed stream (configuration writes must
  match it); it streams once both sensors are subscribed (packed registers), enabled and powered
  on, and stops when one is powered off. These two send packets unchanged (no sequence numbers).
  The DOT also serves the Message Service's recording messages (XD0506P §5.2, written here from
  the spec independently of gaitmon.sensors.movella_dot): control 0x7001, acknowledge 0x7002 (read;
  the message zero-padded to the characteristic's 160 bytes), notifications 0x7003. Recording runs
  on the sensor whether connected or not; a recording file holds the first ``elapsed x
  packets_per_second`` packets of the loaded stream (Rate quantities: timestamp, acc, gyr), which
  RequestFileData exports as ExportFileData notifications for selections of codes 00/07/08.
- ``SetExportInvalid(address, data_numbers)`` -- those DataNumbers are exported as
  ExportFileDataInvalid (0x76) instead of ExportFileData.
- ``LoadStream(address, packet_file, packets_per_second)`` -- the sensor's sample stream as
  packets (one hex string per line, precomputed in the project venv from ``gaitmon.sim``); once
  started, one packet's worth of sensor time passes every 1/``packets_per_second`` s of wall time
  (faster than real time is fine: the timestamps inside the packets stay realistic).
  As the profile says (docs/ble-profile.md §4) the device transmits only while started,
  connected and notifying; it stops on 0x02 and on disconnection, its clock keeps running, and
  transmitted packets are numbered consecutively (the sequence number is rewritten on sending).
- ``SetLoss(address, indices)`` -- stream indices lost in the air (transmitted, never delivered).
- ``DropLink(address, down_s)`` -- link loss: Connected/ServicesResolved go False, GATT objects go
  away, the device refuses Connect for ``down_s`` seconds. Stream packets whose time passes
  while not transmitting are listed in ``not_sent``.
- ``RefuseConnects(address, n)`` -- the next ``n`` Connect calls fail (org.bluez.Error.Failed).
- ``PushRaw(address, value)`` -- one notification with arbitrary bytes (malformed packet tests).
- ``SetRSSI(address, rssi)``, ``SetBattery(address, percent)``.
- ``GetStreamStats(address)`` -> a{sv}: produced, delivered, lost_injected, lost_list (ai: stream
  indices lost in the air), not_sent (ai: stream indices never transmitted), raw_pushed, total,
  done, sending, connected, connects, control_writes (aay).

Handled pitfalls (see the project's BLE testing notes): root object registered before use,
dictionary-typed advertising properties, dbus.Boolean in property updates, Connect sets Connected
and ServicesResolved, advertisement = RSSI change while discovering, handle-style object paths,
no NotifyAcquired, InterfacesAdded/Removed emitted for objects added/removed after start, link loss
stops the notify stream too.
"""

# This file runs inside the dbusmock process (system python), not in the project venv.
import struct
import time

import dbus
import dbus.lowlevel
from gi.repository import GLib

from dbusmock import OBJECT_MANAGER_IFACE, mockobject

BUS_NAME = "org.bluez"
MAIN_OBJ = "/"
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

MOCK_IFACE = "org.bluez.Mock"
ADAPTER_IFACE = "org.bluez.Adapter1"
DEVICE_IFACE = "org.bluez.Device1"
BATTERY_IFACE = "org.bluez.Battery1"
SERVICE_IFACE = "org.bluez.GattService1"
CHAR_IFACE = "org.bluez.GattCharacteristic1"
DESC_IFACE = "org.bluez.GattDescriptor1"
PROPS_IFACE = "org.freedesktop.DBus.Properties"

GAITMON_SERVICE = "b8c10001-6761-6974-6d6f-6e494d550001"
GAITMON_DATA = "b8c10002-6761-6974-6d6f-6e494d550001"
GAITMON_CONFIG = "b8c10003-6761-6974-6d6f-6e494d550001"
GAITMON_CONTROL = "b8c10004-6761-6974-6d6f-6e494d550001"
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
DIS_SERVICE = "0000180a-0000-1000-8000-00805f9b34fb"
DIS_MODEL = "00002a24-0000-1000-8000-00805f9b34fb"
DIS_FIRMWARE = "00002a26-0000-1000-8000-00805f9b34fb"
DIS_MANUFACTURER = "00002a29-0000-1000-8000-00805f9b34fb"
DOT_CONFIG_SERVICE = "15171000-4947-11e9-8646-d663bd873d93"
DOT_DEVICE_CONTROL = "15171002-4947-11e9-8646-d663bd873d93"
DOT_MEASUREMENT_SERVICE = "15172000-4947-11e9-8646-d663bd873d93"
DOT_CONTROL = "15172001-4947-11e9-8646-d663bd873d93"
DOT_MEDIUM_PAYLOAD = "15172003-4947-11e9-8646-d663bd873d93"
DOT_MESSAGE_SERVICE = "15177000-4947-11e9-8646-d663bd873d93"
DOT_MSG_CONTROL = "15177001-4947-11e9-8646-d663bd873d93"
DOT_MSG_ACK = "15177002-4947-11e9-8646-d663bd873d93"
DOT_MSG_NOTIFY = "15177003-4947-11e9-8646-d663bd873d93"
METAWEAR_SERVICE = "326a9000-85cb-9195-d9dd-464cfbbae75a"
METAWEAR_COMMAND = "326a9001-85cb-9195-d9dd-464cfbbae75a"
METAWEAR_NOTIFY = "326a9006-85cb-9195-d9dd-464cfbbae75a"
DATA_UUID = {"gaitmon": GAITMON_DATA, "movella_dot": DOT_MEDIUM_PAYLOAD, "metawear": METAWEAR_NOTIFY}

TICK_MS = 5  # stream pacing timer
ADVERTISE_MS = 200  # advertising interval while the adapter is discovering

# device path -> per-device simulation state (plain python, not exported on D-Bus)
DEVICES: dict = {}


def _b(v):
    return dbus.Boolean(bool(v), variant_level=1)


def _bytes(data):
    return dbus.Array([dbus.Byte(x) for x in bytes(data)], signature="y", variant_level=1)


def _root():
    return mockobject.objects["/"]


def _emit_props_changed(path, interface, changed):
    """PropertiesChanged straight on the connection (no per-signal mock logging: fast path)."""
    obj = mockobject.objects[path]
    sig = dbus.lowlevel.SignalMessage(path, PROPS_IFACE, "PropertiesChanged")
    sig.append(interface, dbus.Dictionary(changed, signature="sv"), dbus.Array([], signature="s"),
               signature="sa{sv}as")
    for location in obj.locations:
        location[0].send_message(sig)


def _set_props(path, interface, changed):
    obj = mockobject.objects[path]
    for k, v in changed.items():
        obj.props[interface][k] = v
    _emit_props_changed(path, interface, changed)


def _dev_by_address(address):
    for path, st in DEVICES.items():
        if st["address"].upper() == str(address).upper():
            return path, st
    raise dbus.exceptions.DBusException(f"no device {address}", name=MOCK_IFACE + ".NoSuchDevice")


# ---------------------------------------------------------------------------------------- adapter

@dbus.service.method(ADAPTER_IFACE, in_signature="", out_signature="")
def StartDiscovery(adapter):
    st = adapter.gm
    st["discovering"] = True
    _set_props(adapter.path, ADAPTER_IFACE, {"Discovering": _b(True)})
    if st.get("adv_timer") is None:
        st["adv_timer"] = GLib.timeout_add(ADVERTISE_MS, _advertise_tick, adapter.path)
    GLib.timeout_add(20, _advertise_once, adapter.path)


@dbus.service.method(ADAPTER_IFACE, in_signature="", out_signature="")
def StopDiscovery(adapter):
    st = adapter.gm
    if not st.get("discovering"):
        raise dbus.exceptions.DBusException("No discovery started", name="org.bluez.Error.Failed")
    st["discovering"] = False
    if st.get("adv_timer") is not None:
        GLib.source_remove(st["adv_timer"])
        st["adv_timer"] = None
    _set_props(adapter.path, ADAPTER_IFACE, {"Discovering": _b(False)})


@dbus.service.method(ADAPTER_IFACE, in_signature="a{sv}", out_signature="")
def SetDiscoveryFilter(adapter, discovery_filter):
    adapter.gm["filter"] = dict(discovery_filter)


@dbus.service.method(ADAPTER_IFACE, in_signature="o", out_signature="")
def RemoveDevice(adapter, path):
    _remove_gatt(path)
    st = DEVICES.pop(str(path), None)
    if st is not None and st.get("timer") is not None:
        GLib.source_remove(st["timer"])
    _root().RemoveObject(path)
    _root().EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                       [dbus.ObjectPath(path), [DEVICE_IFACE, BATTERY_IFACE]])


def _advertise_once(adapter_path):
    for path, st in DEVICES.items():
        if st["adapter"] != adapter_path or st["connected"] or st["down_until"] > time.monotonic():
            continue
        # an advertisement = RSSI update with a small wobble (BlueZ emits it on every report)
        st["adv_count"] += 1
        rssi = st["rssi"] + (st["adv_count"] % 2)
        _set_props(path, DEVICE_IFACE, {"RSSI": dbus.Int16(rssi, variant_level=1)})
    return False


def _advertise_tick(adapter_path):
    _advertise_once(adapter_path)
    return True


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="s")
def AddAdapter(self, device_name, alias):
    path = "/org/bluez/" + device_name
    n = int(device_name[-1]) if device_name[-1].isdigit() else 0
    props = {
        "Address": dbus.String(f"00:11:22:33:44:{n:02X}", variant_level=1),
        "AddressType": dbus.String("public", variant_level=1),
        "Name": dbus.String(alias, variant_level=1),
        "Alias": dbus.String(alias, variant_level=1),
        "Class": dbus.UInt32(268, variant_level=1),
        "Powered": _b(True),
        "Discoverable": _b(False),
        "Discovering": _b(False),
        "Pairable": _b(True),
        "PairableTimeout": dbus.UInt32(0, variant_level=1),
        "DiscoverableTimeout": dbus.UInt32(180, variant_level=1),
        "UUIDs": dbus.Array(["00001800-0000-1000-8000-00805f9b34fb",
                             "00001801-0000-1000-8000-00805f9b34fb"], signature="s", variant_level=1),
        "Modalias": dbus.String("usb:v1D6Bp0246d0541", variant_level=1),
        "Roles": dbus.Array(["central", "peripheral"], signature="s", variant_level=1),
    }
    self.AddObject(path, ADAPTER_IFACE, props, [
        ("StartDiscovery", "", "", StartDiscovery),
        ("StopDiscovery", "", "", StopDiscovery),
        ("SetDiscoveryFilter", "a{sv}", "", SetDiscoveryFilter),
        ("RemoveDevice", "o", "", RemoveDevice),
    ])
    mockobject.objects[path].gm = {"discovering": False, "adv_timer": None, "filter": {}}
    self.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}",
                    [dbus.ObjectPath(path), {ADAPTER_IFACE: props}])
    return path


# ----------------------------------------------------------------------------------------- device

@dbus.service.method(DEVICE_IFACE, in_signature="", out_signature="")
def Connect(device):
    st = DEVICES[device.path]
    if st["connected"]:
        raise dbus.exceptions.DBusException("Already Connected", name="org.bluez.Error.AlreadyConnected")
    if st["refuse"] > 0:
        st["refuse"] -= 1
        raise dbus.exceptions.DBusException("le-connection-abort-by-remote",
                                            name="org.bluez.Error.Failed")
    if st["down_until"] > time.monotonic():
        # the peripheral is out of range: BlueZ reports a failed LE connection
        raise dbus.exceptions.DBusException("le-connection-abort-by-remote",
                                            name="org.bluez.Error.Failed")
    st["connected"] = True
    st["connects"] += 1
    _set_props(device.path, DEVICE_IFACE, {"Connected": _b(True)})
    _export_gatt(device.path)
    _set_props(device.path, DEVICE_IFACE, {"ServicesResolved": _b(True)})


@dbus.service.method(DEVICE_IFACE, in_signature="", out_signature="")
def Disconnect(device):
    st = DEVICES[device.path]
    if not st["connected"]:
        raise dbus.exceptions.DBusException("Not Connected", name="org.bluez.Error.NotConnected")
    _link_down(device.path)


def _link_down(path):
    st = DEVICES[path]
    st["connected"] = False
    st["notifying"] = False
    st["sending"] = False  # the device stops streaming on disconnection
    st["rec"]["msg_notifying"] = False  # (an on-sensor recording goes on)
    st["mw"] = {"sub": set(), "enabled": set(), "power": set()}  # MetaWear: state ends with the link
    _set_props(path, DEVICE_IFACE, {"ServicesResolved": _b(False)})
    _set_props(path, DEVICE_IFACE, {"Connected": _b(False)})
    _remove_gatt(path)


def _add_gatt_object(path, iface, props, methods):
    root = _root()
    root.AddObject(path, iface, props, methods)
    root.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}",
                    [dbus.ObjectPath(path), {iface: props}])


def _char(dev_path, svc_path, handle, uuid, flags, value=b""):
    path = f"{svc_path}/char{handle:04x}"
    props = {
        "UUID": dbus.String(uuid, variant_level=1),
        "Service": dbus.ObjectPath(svc_path, variant_level=1),
        "Value": _bytes(value),
        "Notifying": _b(False),
        "Flags": dbus.Array(flags, signature="s", variant_level=1),
        "MTU": dbus.UInt16(DEVICES[dev_path]["mtu"], variant_level=1),
    }
    methods = [("ReadValue", "a{sv}", "ay", ReadValue), ("WriteValue", "aya{sv}", "", WriteValue)]
    if "notify" in flags:
        methods += [("StartNotify", "", "", StartNotify), ("StopNotify", "", "", StopNotify)]
    _add_gatt_object(path, CHAR_IFACE, props, methods)
    mockobject.objects[path].gm = {"device": dev_path, "uuid": uuid}
    if "notify" in flags:
        dpath = f"{path}/desc{handle + 2:04x}"
        _add_gatt_object(dpath, DESC_IFACE, {
            "UUID": dbus.String(CCCD, variant_level=1),
            "Characteristic": dbus.ObjectPath(path, variant_level=1),
            "Value": _bytes(b""),
            "Flags": dbus.Array([], signature="s", variant_level=1),
        }, [])
    DEVICES[dev_path]["gatt"].append(path)
    return path


def _service(dev_path, handle, uuid):
    path = f"{dev_path}/service{handle:04x}"
    _add_gatt_object(path, SERVICE_IFACE, {
        "UUID": dbus.String(uuid, variant_level=1),
        "Device": dbus.ObjectPath(dev_path, variant_level=1),
        "Primary": _b(True),
        "Includes": dbus.Array([], signature="o", variant_level=1),
    }, [])
    DEVICES[dev_path]["gatt"].append(path)
    return path


def _export_gatt(dev_path):
    st = DEVICES[dev_path]
    st["gatt"] = []
    st["chars"] = {}
    if st["kind"] == "gaitmon":
        svc = _service(dev_path, 0x0010, GAITMON_SERVICE)
        st["chars"][GAITMON_DATA] = _char(dev_path, svc, 0x0011, GAITMON_DATA, ["notify"])
        st["chars"][GAITMON_CONFIG] = _char(dev_path, svc, 0x0014, GAITMON_CONFIG, ["read"])
        st["chars"][GAITMON_CONTROL] = _char(dev_path, svc, 0x0016, GAITMON_CONTROL,
                                             ["write", "write-without-response"])
    elif st["kind"] == "movella_dot":
        svc = _service(dev_path, 0x0010, DOT_CONFIG_SERVICE)
        st["chars"][DOT_DEVICE_CONTROL] = _char(dev_path, svc, 0x0011, DOT_DEVICE_CONTROL, ["read", "write"])
        svc = _service(dev_path, 0x0040, DOT_MEASUREMENT_SERVICE)
        st["chars"][DOT_CONTROL] = _char(dev_path, svc, 0x0041, DOT_CONTROL, ["read", "write"])
        st["chars"][DOT_MEDIUM_PAYLOAD] = _char(dev_path, svc, 0x0043, DOT_MEDIUM_PAYLOAD, ["notify"])
        svc = _service(dev_path, 0x0070, DOT_MESSAGE_SERVICE)
        st["chars"][DOT_MSG_CONTROL] = _char(dev_path, svc, 0x0071, DOT_MSG_CONTROL, ["write"])
        st["chars"][DOT_MSG_ACK] = _char(dev_path, svc, 0x0073, DOT_MSG_ACK, ["read"])
        st["chars"][DOT_MSG_NOTIFY] = _char(dev_path, svc, 0x0075, DOT_MSG_NOTIFY, ["notify"])
    elif st["kind"] == "metawear":
        svc = _service(dev_path, 0x0010, METAWEAR_SERVICE)
        st["chars"][METAWEAR_COMMAND] = _char(dev_path, svc, 0x0011, METAWEAR_COMMAND,
                                              ["write", "write-without-response"])
        st["chars"][METAWEAR_NOTIFY] = _char(dev_path, svc, 0x0013, METAWEAR_NOTIFY, ["notify"])
    svc = _service(dev_path, 0x0020, DIS_SERVICE)
    st["chars"][DIS_MODEL] = _char(dev_path, svc, 0x0021, DIS_MODEL, ["read"])
    st["chars"][DIS_FIRMWARE] = _char(dev_path, svc, 0x0023, DIS_FIRMWARE, ["read"])
    st["chars"][DIS_MANUFACTURER] = _char(dev_path, svc, 0x0025, DIS_MANUFACTURER, ["read"])
    if st["battery_gatt"]:
        svc = _service(dev_path, 0x0030, BATTERY_SERVICE)
        st["chars"][BATTERY_LEVEL] = _char(dev_path, svc, 0x0031, BATTERY_LEVEL, ["read", "notify"])
    else:
        # BlueZ's battery plugin claims 0x180F and exports org.bluez.Battery1 on the device
        dev = mockobject.objects[dev_path]
        props = {"Percentage": dbus.Byte(st["battery"], variant_level=1),
                 "Source": dbus.String("GATT Battery Service", variant_level=1)}
        dev.props[BATTERY_IFACE] = props
        _root().EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}",
                           [dbus.ObjectPath(dev_path), {BATTERY_IFACE: props}])


def _remove_gatt(dev_path):
    st = DEVICES.get(str(dev_path))
    if st is None:
        return
    root = _root()
    for path in reversed(st.get("gatt", [])):
        children = [p for p in mockobject.objects if p.startswith(path + "/")]
        for child in children:
            iface = DESC_IFACE
            root.RemoveObject(child)
            root.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                            [dbus.ObjectPath(child), [iface]])
        if path in mockobject.objects:
            iface = SERVICE_IFACE if "/char" not in path else CHAR_IFACE
            root.RemoveObject(path)
            root.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                            [dbus.ObjectPath(path), [iface]])
    st["gatt"] = []
    st["chars"] = {}
    dev = mockobject.objects.get(str(dev_path))
    if dev is not None and BATTERY_IFACE in dev.props:
        del dev.props[BATTERY_IFACE]
        root.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                        [dbus.ObjectPath(dev_path), [BATTERY_IFACE]])


@dbus.service.method(MOCK_IFACE, in_signature="sssa{sv}", out_signature="s")
def AddPeripheral(self, adapter_name, address, name, options):
    adapter_path = "/org/bluez/" + adapter_name
    if adapter_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(f"no adapter {adapter_name}", name=MOCK_IFACE + ".NoSuchAdapter")
    path = adapter_path + "/dev_" + address.upper().replace(":", "_")
    kind = str(options.get("kind", "gaitmon"))
    default_uuids = {"gaitmon": [GAITMON_SERVICE], "metawear": [METAWEAR_SERVICE]}.get(kind, [])
    uuids = [str(u) for u in options.get("uuids", default_uuids)]
    rssi = int(options.get("rssi", -60))
    props = {
        "Address": dbus.String(address.upper(), variant_level=1),
        "AddressType": dbus.String("random", variant_level=1),
        "Name": dbus.String(name, variant_level=1),
        "Alias": dbus.String(name, variant_level=1),
        "Icon": dbus.String("", variant_level=1),
        "Class": dbus.UInt32(0, variant_level=1),
        "Appearance": dbus.UInt16(0, variant_level=1),
        "UUIDs": dbus.Array(uuids, signature="s", variant_level=1),
        "Paired": _b(False),
        "Bonded": _b(False),
        "Connected": _b(False),
        "Trusted": _b(False),
        "Blocked": _b(False),
        "WakeAllowed": _b(False),
        "Adapter": dbus.ObjectPath(adapter_path, variant_level=1),
        "LegacyPairing": _b(False),
        "RSSI": dbus.Int16(rssi, variant_level=1),
        "TxPower": dbus.Int16(0, variant_level=1),
        "ManufacturerData": dbus.Dictionary({}, signature="qv", variant_level=1),
        "ServiceData": dbus.Dictionary({}, signature="sv", variant_level=1),
        "AdvertisingFlags": dbus.Array([dbus.Byte(6)], signature="y", variant_level=1),
        "AdvertisingData": dbus.Dictionary({}, signature="yv", variant_level=1),
        "ServicesResolved": _b(False),
    }
    self.AddObject(path, DEVICE_IFACE, props, [
        ("Connect", "", "", Connect),
        ("Disconnect", "", "", Disconnect),
        ("Pair", "", "", ""),
        ("CancelPairing", "", "", ""),
    ])
    DEVICES[path] = {
        "address": address.upper(), "adapter": adapter_path, "kind": kind, "rssi": rssi,
        "adv_count": 0, "connected": False, "notifying": False, "down_until": 0.0, "refuse": 0,
        "config": bytes(options.get("config", b"")), "battery": int(options.get("battery", 87)),
        "battery_gatt": bool(options.get("battery_gatt", False)),
        "model": str(options.get("model", "gaitmon-virtual")),
        "firmware": str(options.get("firmware", "1.0.0")),
        "manufacturer": str(options.get("manufacturer", "gaitmon project")),
        "mtu": int(options.get("mtu", 247)),
        "gatt": [], "chars": {},
        # stream
        "packets": [], "pps": 20.0, "loss": set(), "index": 0, "acc": 0.0, "sending": False,
        "clock_running": False, "seq_out": 0, "not_sent": [],
        "last_tick": None, "timer": None, "delivered": 0, "lost_injected": 0,
        "lost_list": [], "raw_pushed": 0, "connects": 0, "control_writes": [],
        "data_uuid": DATA_UUID.get(kind, GAITMON_DATA),
        "mw": {"sub": set(), "enabled": set(), "power": set()},
        # DOT recording (Message Service): survives disconnections, like the real flash
        "rec": {"recording": False, "t0": 0.0, "utc": 0, "timer": 0xFFFF, "files": [], "ack": b"",
                "select": bytes([0x00, 0x04, 0x07, 0x08]), "msg_notifying": False, "invalid": set(),
                "msg_writes": []},
    }
    self.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}",
                    [dbus.ObjectPath(path), {DEVICE_IFACE: props}])
    return path


# ------------------------------------------------------------------------------------ GATT methods

def _char_device(char_obj):
    dev_path = char_obj.gm["device"]
    st = DEVICES.get(dev_path)
    if st is None or not st["connected"]:
        raise dbus.exceptions.DBusException("Not connected", name="org.bluez.Error.NotConnected")
    return dev_path, st


@dbus.service.method(CHAR_IFACE, in_signature="a{sv}", out_signature="ay")
def ReadValue(char_obj, options):
    _dev_path, st = _char_device(char_obj)
    uuid = char_obj.gm["uuid"]
    value = {
        GAITMON_CONFIG: st["config"],
        DOT_DEVICE_CONTROL: st["config"],
        DOT_CONTROL: bytes([1, 1 if st["sending"] else 0, 21]),
        DOT_MSG_ACK: st["rec"]["ack"] + bytes(160 - len(st["rec"]["ack"])),
        DIS_MODEL: st["model"].encode(),
        DIS_FIRMWARE: st["firmware"].encode(),
        DIS_MANUFACTURER: st["manufacturer"].encode(),
        BATTERY_LEVEL: bytes([st["battery"]]),
    }.get(uuid)
    if value is None:
        raise dbus.exceptions.DBusException("Read not permitted", name="org.bluez.Error.NotPermitted")
    return dbus.Array([dbus.Byte(x) for x in value], signature="y")


@dbus.service.method(CHAR_IFACE, in_signature="aya{sv}", out_signature="")
def WriteValue(char_obj, value, options):
    dev_path, st = _char_device(char_obj)
    if st["kind"] == "movella_dot":
        return _write_dot(dev_path, st, char_obj.gm["uuid"], bytes(value))
    if st["kind"] == "metawear":
        return _write_metawear(dev_path, st, char_obj.gm["uuid"], bytes(value))
    if char_obj.gm["uuid"] != GAITMON_CONTROL:
        raise dbus.exceptions.DBusException("Write not permitted", name="org.bluez.Error.NotPermitted")
    data = bytes(value)
    st["control_writes"].append(data)
    if not data:
        raise dbus.exceptions.DBusException("Invalid Length", name="org.bluez.Error.InvalidArguments")
    if data[0] == 0x01:
        _start_stream(dev_path)
    elif data[0] == 0x02:
        _stop_stream(dev_path)
    elif data[0] in (0x03, 0x04):
        # the packet file is precomputed at one rate/range: accept only what it already is
        cfg = st["config"]
        ok = (len(data) == 3 and cfg[1:3] == data[1:3]) if data[0] == 0x03 else \
            (len(data) == 4 and cfg[3:6] == data[1:4])
        if not ok:
            raise dbus.exceptions.DBusException("Operation failed with ATT error: 0x13",
                                                name="org.bluez.Error.Failed")
    else:
        raise dbus.exceptions.DBusException("Operation failed with ATT error: 0x0e",
                                            name="org.bluez.Error.Failed")


def _att_error(code):
    return dbus.exceptions.DBusException(f"Operation failed with ATT error: 0x{code:02x}",
                                         name="org.bluez.Error.Failed")


def _write_dot(dev_path, st, uuid, data):
    """Movella DOT: output rate on the device control (must be the precomputed stream's),
    measurement start/stop [1, 1|0, mode] on the control characteristic."""
    st["control_writes"].append(data)
    if uuid == DOT_DEVICE_CONTROL:
        if len(data) != 32:
            raise _att_error(0x0D)
        if data[0] & 0x10 and data[24:26] != st["config"][24:26]:
            raise _att_error(0x13)
        return
    if uuid == DOT_MSG_CONTROL:
        return _dot_message(dev_path, st, data)
    if uuid != DOT_CONTROL:
        raise dbus.exceptions.DBusException("Write not permitted", name="org.bluez.Error.NotPermitted")
    if len(data) != 3 or data[0] != 1 or data[1] not in (0, 1):
        raise _att_error(0x13)
    if data[1] == 1:
        if data[2] != 21:  # the precomputed stream is Rate quantities
            raise _att_error(0x13)
        _start_stream(dev_path)
    else:
        _stop_stream(dev_path)


def _msg(reid, redata=b""):
    """MID 1 recording message: MID LEN ReID ReDATA CHECKSUM (all bytes sum to 0 mod 256)."""
    body = bytes([0x01, 1 + len(redata), reid]) + bytes(redata)
    return body + bytes([(-sum(body)) & 0xFF])


def _dot_message(dev_path, st, data):
    """One recording control message (XD0506P §5.2.2); the acknowledge (§5.2.3) is left for a
    read of 0x7002, asynchronous answers (§5.2.4) are notified on 0x7003 from the main loop."""
    rec = st["rec"]
    rec["msg_writes"].append(data)
    if len(data) < 4 or data[0] != 0x01 or len(data) < data[1] + 3 or sum(data[:data[1] + 3]) & 0xFF \
            or data[1] < 1:
        raise _att_error(0x13)
    reid, redata = data[2], data[3:data[1] + 2]
    idle = not rec["recording"]
    state = 0x06 if idle else 0x40
    result, notes = 0x00, []
    if reid == 0x02:  # GetState
        result = state
    elif reid == 0x40:  # StartRecording: StartUTC u32, RecordingTime u16
        if not idle or len(redata) != 6:
            result = state if not idle else 0x02
        else:
            rec["utc"], rec["timer"] = struct.unpack("<IH", redata)
            rec["recording"], rec["t0"] = True, time.monotonic()
    elif reid == 0x41:  # StopRecording -> RecordingStopped
        if idle:
            result = state
        else:
            n = min(len(st["packets"]), max(1, int((time.monotonic() - rec["t0"]) * st["pps"])))
            rec["files"].append((rec["utc"], rec["timer"], n))
            rec["recording"] = False
            notes = [_msg(0x41)]
    elif reid == 0x42:  # RequestRecordingTime -> RecordingTime
        if idle:
            result = state
        else:
            el = int(time.monotonic() - rec["t0"])
            rem = 0xFFFF if rec["timer"] == 0xFFFF else max(0, rec["timer"] - el)
            notes = [_msg(0x43, struct.pack("<IHH", rec["utc"], rec["timer"], rem))]
    elif not idle:
        result = state
    elif reid == 0x30:  # EraseFlash -> StoreFlashInfoDone
        rec["files"] = []
        notes = [_msg(0x33)]
    elif reid == 0x50:  # RequestFlashInfo: header rev 2.0, File Indicators, done
        header = struct.pack("<IIBBIII", 0x466C6173, 4096, 0, 2, 1_700_000_000, 1 << 25, 128) + bytes(106)
        ind = b"".join(b"\xee" + b"\xcc" * (1 + n * 28 // 228_000) for _u, _t, n in rec["files"])
        notes = [_msg(0x51, header)]
        if ind:
            ind += b"\xff" * (-len(ind) % 128)
            notes += [_msg(0x51, ind[i:i + 128]) for i in range(0, len(ind), 128)]
        notes.append(_msg(0x52))
    elif reid in (0x60, 0x70) and len(redata) == 1:  # RequestFileInfo / RequestFileData
        i = redata[0]
        if not 1 <= i <= len(rec["files"]):
            notes = [_msg(0x63)]
        elif reid == 0x60:
            utc, timer, _n = rec["files"][i - 1]
            notes = [_msg(0x61, struct.pack("<IIBBIH", 0x5265636F, 128, 0, 1, utc, timer) + bytes(112)), _msg(0x62)]
        else:
            notes = _export(st, rec["files"][i - 1][2])
    elif reid == 0x74 and redata and set(redata) <= {0x00, 0x07, 0x08} and list(redata) == sorted(set(redata)):
        rec["select"] = bytes(redata)
    else:
        result = 0x02  # InvalidCmd
    rec["ack"] = _msg(0x01, bytes([result]) + data[2:data[1] + 2])
    if notes:
        GLib.timeout_add(2, _send_notes, dev_path, notes)


def _export(st, n):
    """ExportFileData (DataNumber u32 + the selected quantities of Table 17), then …Done."""
    sel = st["rec"]["select"]
    parts = {0x00: slice(0, 4), 0x07: slice(4, 16), 0x08: slice(16, 28)}
    out = []
    for k in range(n):
        pk = st["packets"][k]
        body = struct.pack("<I", k) + b"".join(pk[parts[q]] for q in sel)
        out.append(_msg(0x76 if k in st["rec"]["invalid"] else 0x71, body))
    return out + [_msg(0x72)]


def _send_notes(dev_path, notes):
    st = DEVICES.get(dev_path)
    if st is None or not st["connected"]:
        return False
    char_path = st["chars"].get(DOT_MSG_NOTIFY)
    for _ in range(40):  # a batch per main-loop tick
        if not notes:
            return False
        value = notes.pop(0)
        if st["rec"]["msg_notifying"] and char_path is not None:
            mockobject.objects[char_path].props[CHAR_IFACE]["Value"] = _bytes(value)
            _emit_props_changed(char_path, CHAR_IFACE, {"Value": _bytes(value)})
    return bool(notes)


def _write_metawear(dev_path, st, uuid, data):
    """MetaWear: [module, register, ...] commands; config must match the precomputed ODR."""
    if uuid != METAWEAR_COMMAND:
        raise dbus.exceptions.DBusException("Write not permitted", name="org.bluez.Error.NotPermitted")
    st["control_writes"].append(data)
    if len(data) < 3 or data[0] not in (0x03, 0x13):
        raise _att_error(0x13)
    mod, reg, payload = data[0], data[1], data[2:]
    m = st["mw"]
    if reg == 0x03 and len(payload) == 2:
        if (payload[0] & 0x0F) != st["config"][0]:
            raise _att_error(0x13)
    elif reg == 0x01 and len(payload) == 1:
        (m["power"].add if payload[0] else m["power"].discard)(mod)
    elif reg == 0x02 and len(payload) == 2:
        (m["enabled"].add if payload[0] else m["enabled"].discard)(mod)
    elif (mod, reg) in ((0x03, 0x1C), (0x13, 0x07)) and len(payload) == 1:
        (m["sub"].add if payload[0] else m["sub"].discard)(mod)
    else:
        raise _att_error(0x13)
    if all(len(m[k]) == 2 for k in ("sub", "enabled", "power")):
        _start_stream(dev_path)
    else:
        _stop_stream(dev_path)


@dbus.service.method(CHAR_IFACE, in_signature="", out_signature="")
def StartNotify(char_obj):
    dev_path, st = _char_device(char_obj)
    if char_obj.props[CHAR_IFACE]["Notifying"]:
        return
    _set_props(char_obj.path, CHAR_IFACE, {"Notifying": _b(True)})
    if char_obj.gm["uuid"] == st["data_uuid"]:
        st["notifying"] = True
    if char_obj.gm["uuid"] == DOT_MSG_NOTIFY:
        st["rec"]["msg_notifying"] = True


@dbus.service.method(CHAR_IFACE, in_signature="", out_signature="")
def StopNotify(char_obj):
    dev_path, st = _char_device(char_obj)
    _set_props(char_obj.path, CHAR_IFACE, {"Notifying": _b(False)})
    if char_obj.gm["uuid"] == st["data_uuid"]:
        st["notifying"] = False
    if char_obj.gm["uuid"] == DOT_MSG_NOTIFY:
        st["rec"]["msg_notifying"] = False


# ------------------------------------------------------------------------------------ streaming

def _notify_data(dev_path, value):
    st = DEVICES[dev_path]
    char_path = st["chars"].get(st["data_uuid"])
    if char_path is None:
        return False
    mockobject.objects[char_path].props[CHAR_IFACE]["Value"] = _bytes(value)
    _emit_props_changed(char_path, CHAR_IFACE, {"Value": _bytes(value)})
    return True


def _start_stream(dev_path):
    """Control 0x01. The sensor clock starts with the first Start and then never stops; the
    device transmits while started, connected and notifying (docs/ble-profile.md §4: it stops
    on 0x02 and on disconnection, and a new Start after reconnecting resumes at the current
    sensor time with the next sequence number)."""
    st = DEVICES[dev_path]
    st["sending"] = True
    if not st["clock_running"]:
        st["clock_running"] = True
        st["last_tick"] = time.monotonic()
    if st["timer"] is None and st["index"] < len(st["packets"]):
        st["timer"] = GLib.timeout_add(TICK_MS, _stream_tick, dev_path)


def _stop_stream(dev_path):
    DEVICES[dev_path]["sending"] = False


def _with_seq(packet, seq):
    return packet[:2] + struct.pack("<H", seq) + packet[4:]


def _stream_tick(dev_path):
    st = DEVICES.get(dev_path)
    if st is None:
        return False
    now = time.monotonic()
    st["acc"] += (now - st["last_tick"]) * st["pps"]
    st["last_tick"] = now
    n = int(st["acc"])
    st["acc"] -= n
    total = len(st["packets"])
    while n > 0 and st["index"] < total:
        i = st["index"]
        st["index"] += 1
        n -= 1
        if not (st["sending"] and st["connected"] and st["notifying"]):
            st["not_sent"].append(i)  # sensor time passes, nothing is transmitted
            continue
        seq = st["seq_out"]
        st["seq_out"] = (seq + 1) & 0xFFFF
        if i in st["loss"]:
            st["lost_list"].append(i)  # transmitted (sequence number used), lost in the air
        else:
            pk = st["packets"][i]
            _notify_data(dev_path, _with_seq(pk, seq) if st["kind"] == "gaitmon" else pk)
            st["delivered"] += 1
    if st["index"] >= total:
        st["sending"] = False
        st["timer"] = None
        return False
    return True


@dbus.service.method(MOCK_IFACE, in_signature="ssd", out_signature="i")
def LoadStream(self, address, packet_file, packets_per_second):
    _path, st = _dev_by_address(address)
    with open(packet_file, encoding="ascii") as fh:
        st["packets"] = [bytes.fromhex(line.strip()) for line in fh if line.strip()]
    st["pps"] = float(packets_per_second)
    st["index"] = 0
    st["acc"] = 0.0
    st["clock_running"] = False
    st["seq_out"] = struct.unpack_from("<H", st["packets"][0], 2)[0] if st["packets"] else 0
    st["delivered"] = st["raw_pushed"] = 0
    st["lost_list"] = []
    st["not_sent"] = []
    return len(st["packets"])


@dbus.service.method(MOCK_IFACE, in_signature="sai", out_signature="")
def SetExportInvalid(self, address, data_numbers):
    _path, st = _dev_by_address(address)
    st["rec"]["invalid"] = {int(i) for i in data_numbers}


@dbus.service.method(MOCK_IFACE, in_signature="sai", out_signature="")
def SetLoss(self, address, indices):
    _path, st = _dev_by_address(address)
    st["loss"] = {int(i) for i in indices}


@dbus.service.method(MOCK_IFACE, in_signature="sd", out_signature="")
def DropLink(self, address, down_s):
    path, st = _dev_by_address(address)
    st["down_until"] = time.monotonic() + float(down_s)
    if st["connected"]:
        _link_down(path)


@dbus.service.method(MOCK_IFACE, in_signature="si", out_signature="")
def RefuseConnects(self, address, count):
    _path, st = _dev_by_address(address)
    st["refuse"] = int(count)


@dbus.service.method(MOCK_IFACE, in_signature="say", out_signature="")
def PushRaw(self, address, value):
    path, st = _dev_by_address(address)
    if not (st["connected"] and st["notifying"]):
        raise dbus.exceptions.DBusException("not notifying", name=MOCK_IFACE + ".NotNotifying")
    _notify_data(path, bytes(value))
    st["raw_pushed"] += 1


@dbus.service.method(MOCK_IFACE, in_signature="sn", out_signature="")
def SetRSSI(self, address, rssi):
    path, st = _dev_by_address(address)
    st["rssi"] = int(rssi)
    _set_props(path, DEVICE_IFACE, {"RSSI": dbus.Int16(int(rssi), variant_level=1)})


@dbus.service.method(MOCK_IFACE, in_signature="sy", out_signature="")
def SetBattery(self, address, percent):
    path, st = _dev_by_address(address)
    st["battery"] = int(percent)
    if st["connected"] and not st["battery_gatt"]:
        _set_props(path, BATTERY_IFACE, {"Percentage": dbus.Byte(int(percent), variant_level=1)})


@dbus.service.method(MOCK_IFACE, in_signature="s", out_signature="a{sv}")
def GetStreamStats(self, address):
    _path, st = _dev_by_address(address)
    return dbus.Dictionary({
        "produced": dbus.Int32(st["index"]),
        "delivered": dbus.Int32(st["delivered"]),
        "lost_injected": dbus.Int32(len(st["lost_list"])),
        "not_sent": dbus.Array([dbus.Int32(i) for i in st["not_sent"]], signature="i"),
        "raw_pushed": dbus.Int32(st["raw_pushed"]),
        "lost_list": dbus.Array([dbus.Int32(i) for i in st["lost_list"]], signature="i"),
        "total": dbus.Int32(len(st["packets"])),
        "done": dbus.Boolean(st["index"] >= len(st["packets"]) > 0),
        "sending": dbus.Boolean(st["sending"]),
        "connected": dbus.Boolean(st["connected"]),
        "connects": dbus.Int32(st["connects"]),
        "control_writes": dbus.Array([dbus.ByteArray(w) for w in st["control_writes"]], signature="ay"),
        "recording": dbus.Boolean(st["rec"]["recording"]),
        "rec_files": dbus.Array([dbus.Int32(f[2]) for f in st["rec"]["files"]], signature="i"),
    }, signature="sv")


def load(mock, _parameters):
    # pitfall 1: under `python -m dbusmock` the root object is registered only after load()
    mockobject.objects["/"] = mock
    mock.AddObject("/org/bluez", "org.bluez.AgentManager1", {}, [
        ("RegisterAgent", "os", "", ""),
        ("RequestDefaultAgent", "o", "", ""),
        ("UnregisterAgent", "o", "", ""),
    ])
