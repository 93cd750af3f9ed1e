"""The ``gaitmon`` command line — on top of every other layer; nothing but ``gaitmon.__main__``
imports it.

One module per command group, each with ``add_parser(subparsers)`` and its ``cmd_*`` handlers:

========================  ==========================================================
module                    commands
========================  ==========================================================
:mod:`.analyze`           ``analyze``, ``import`` (a recording → steps, journal, InfluxDB)
:mod:`.simulate`          ``simulate`` (simulated or motion-capture recording + truth)
:mod:`.demo`              ``demo`` (simulated run streamed live through the core)
:mod:`.scan`              ``scan`` (BLE sensors nearby)
:mod:`.collect`           ``collect`` (wires collector → live pipeline → sinks, live table)
:mod:`.store`             ``store check|flush|retention|sessions|weekly|rejected``
:mod:`.dashboards`        ``dashboards push`` (Grafana)
:mod:`.exercise`          ``exercise log``
:mod:`.report`            ``report`` (HTML session report, fatigue drift)
:mod:`.trend`             ``trend`` (weekly drop, adherence, programme effect)
:mod:`.single_leg`        ``test single-leg``
========================  ==========================================================

:mod:`.entry` builds the parser and runs a command (:func:`main`); :mod:`.common` holds the exit
codes and helpers they share. The modules import the layers below lazily, inside the handlers,
so building the parser (every ``gaitmon`` run, ``--help``) loads neither the core nor bleak.

Exit codes: 0 ok, 2 bad input or usage (the message says what to change), 3 no gait found /
nothing to analyse, 4 a server (InfluxDB, Grafana) refused or did not answer, or no Bluetooth.
"""

from gaitmon.cli.common import EXIT_BAD_INPUT, EXIT_NO_GAIT, EXIT_OK, EXIT_SERVER
from gaitmon.cli.entry import build_parser, main

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_BAD_INPUT", "EXIT_NO_GAIT", "EXIT_SERVER"]
