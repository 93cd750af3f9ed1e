"""Issue 12, dependencies: gaitmon runs on the HTTP stack it declares and is tested with — the
real urllib3 2.x — and nothing in its dependency set replaces it (grafana-client -> niquests ->
urllib3-future used to). These tests look at what is installed, not at what should be."""
from __future__ import annotations

import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"urllib3-future", "niquests", "grafana-client"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure() -> set[str]:
    """Names of the installed distributions that the runtime requirements declared in
    pyproject.toml pull in (transitively, from the installed metadata)."""
    import tomllib

    seen: set[str] = set()
    todo = list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    while todo:
        req = todo.pop()
        name = _norm(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0])
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        todo += [r for r in reqs if "extra ==" not in r]
    return seen


def test_declared_dependencies_do_not_replace_urllib3():
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not FORBIDDEN & {_norm(re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0]) for r in declared}
    assert not FORBIDDEN & _closure()


def test_gaitmon_imports_neither_grafana_client_nor_niquests():
    code = ("import sys, gaitmon.cli, gaitmon.grafana.client, gaitmon.store.http, gaitmon.store.transport; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('grafana_client', 'niquests')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_installed_urllib3_is_urllib3():
    """The module `import urllib3` gives is the urllib3 distribution (2.x), not a fork copied over
    it (urllib3-future's .pth hook does that at every start; ./dev.sh setup removes it)."""
    code = "import urllib3; print(urllib3.__version__, urllib3.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version = out.stdout.split()[0]
    assert version == md.version("urllib3"), (
        f"`import urllib3` is {version} but the urllib3 distribution is {md.version('urllib3')}: "
        "urllib3-future overwrote it; run ./dev.sh setup")
    assert version.startswith("2.")
    try:
        md.version("urllib3-future")
    except md.PackageNotFoundError:
        pass
    else:
        raise AssertionError("urllib3-future is installed (it replaces urllib3); run ./dev.sh setup")
