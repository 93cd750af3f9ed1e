"""tests/servers.py itself: restarts keep data, a missing binary is a clear error."""
from __future__ import annotations

import pytest

from tests.servers import InfluxD, ServerBinaryMissing, _find_binary


def test_restart_and_crash_keep_acknowledged_data():
    with InfluxD() as server:
        server.create_db("g")
        server.write_lines(["m,t=a v=1 1", "m,t=b v=2 2"], db="g")
        port = server.port
        server.stop()
        assert not server.running
        server.start()
        server.write_lines(["m,t=c v=3 3"], db="g")
        server.kill()
        server.start()
        assert server.port == port and server.ping().startswith("1.6")
        assert [(r["t"], r["v"]) for r in server.rows('SELECT * FROM "m"', db="g")] == [("a", 1), ("b", 2), ("c", 3)]


def test_missing_binary_names_the_fix():
    with pytest.raises(ServerBinaryMissing, match=r"\./dev\.sh test"):
        _find_binary("gaitmon-no-such-server", "/nonexistent/gaitmon-no-such-server", "no-such-package")
