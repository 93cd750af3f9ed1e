"""Generate (or check) the committed dashboard JSON: ``python -m dashboards.build [--check]``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import coach_team, long_term, runner_session
from .common import dump

JSON_DIR = Path(__file__).resolve().parent / "json"
#: file name -> builder
DASHBOARDS = {
    "runner-session.json": runner_session.build,
    "coach-team.json": coach_team.build,
    "long-term.json": long_term.build,
}


def generate() -> dict[Path, str]:
    """Every generated file (path -> text): the dashboards and the alert-rule provisioning file."""
    from . import alerts

    out = {JSON_DIR / name: dump(build()) for name, build in DASHBOARDS.items()}
    out.update(alerts.generate())
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dashboards.build", description=__doc__)
    p.add_argument("--check", action="store_true", help="exit 1 if a committed file differs from the code")
    args = p.parse_args(argv)
    stale = []
    for path, text in generate().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run python -m dashboards.build): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
