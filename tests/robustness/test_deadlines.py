"""Issue 12, timeouts: GAITMON_INFLUX_TIMEOUT_S / --influx-timeout bound a command's whole
InfluxDB work — against a server that trickles one byte a second, or accepts and never answers.
(Generous bounds: these check that the limit holds at all, not speed.)"""
from __future__ import annotations

import socket
import threading
import time

import pytest

from gaitmon.cli import main
from tests.store.helpers import SilentServer


class TrickleServer:
    """Answers every request with a valid HTTP 204, one byte per second."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(c,), daemon=True).start()

    def _answer(self, c):
        msg = b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6.7\r\nContent-Length: 0\r\n\r\n"
        try:
            c.recv(65536)
            for i in range(len(msg)):
                if self._stop.wait(1.0):
                    break
                c.sendall(msg[i:i + 1])
        except OSError:
            pass
        finally:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.sock.close()


def _timed(argv, capsys):
    t = time.monotonic()
    rc = main(argv)
    dt = time.monotonic() - t
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, dt, err


@pytest.fixture
def server_env(clean_env):
    clean_env.setenv("GAITMON_INFLUX_DB", "gait")
    clean_env.setenv("GAITMON_INFLUX_API", "v1")
    clean_env.setenv("GAITMON_INFLUX_TIMEOUT_S", "3")
    return clean_env


def test_store_check_against_a_trickling_server(server_env, capsys):
    with TrickleServer() as srv:
        server_env.setenv("GAITMON_INFLUX_URL", srv.url)
        rc, dt, err = _timed(["store", "check"], capsys)
    assert rc == 4 and "no answer" in err
    assert dt < 3 + 3  # was 74 s with a 10 s timeout


def test_import_against_a_silent_server(server_env, recording, capsys):
    with SilentServer() as srv:
        server_env.setenv("GAITMON_INFLUX_URL", srv.url)
        rc, dt, err = _timed(["import", str(recording), "--runner", "ann", "--influx-timeout", "4"], capsys)
    assert rc == 0  # the steps wait in the spool for the next run
    assert dt < 4 + 6  # analysis + 4 s (was 44 s with --influx-timeout 20)


def test_report_against_a_silent_server(server_env, recording, tmp_path, capsys):
    with SilentServer() as srv:
        server_env.setenv("GAITMON_INFLUX_URL", srv.url)
        t = time.monotonic()
        rc = main(["report", str(recording), "--runner", "ann", "--out-dir", str(tmp_path / "r")])
        dt = time.monotonic() - t
    capsys.readouterr()
    assert rc in (0, 4)
    assert dt < 3 + 7  # report building + 3 s (was 66 s)


def test_collect_against_a_silent_server(server_env, tmp_path, capsys):
    with SilentServer() as srv:
        server_env.setenv("GAITMON_INFLUX_URL", srv.url)
        t = time.monotonic()
        rc = main(["collect", "--virtual", "1", "--duration", "4", "--out", str(tmp_path / "c")])
        dt = time.monotonic() - t
    capsys.readouterr()
    assert rc in (0, 4)
    assert dt < 4 + 2 * 3 + 6  # collection + start and end checks bounded (was 62 s for 10 s)


def test_a_deadline_never_outlives_its_operation():
    from gaitmon.store import deadline

    deadline.begin(0.0)  # outside any operation: ignored (a library call must not poison the process)
    assert deadline.remaining() == float("inf")
    with deadline.operation(None):
        deadline.begin(0.0)
        assert deadline.remaining() == 0.0
        with deadline.operation(5.0):
            assert deadline.remaining() == 0.0  # nested blocks keep the earlier deadline
    assert deadline.remaining() == float("inf")
