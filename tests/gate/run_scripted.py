"""`python -m tests.gate.run_scripted SCRIPT LOG GATE-OPTIONS…`: the real `estate gate` with those options, its
window driven through the steps of SCRIPT by `tests.gate.driver`, each step logged to LOG."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gate import cli
from gate.runtime import GateConfig, GateRuntime
from gate.ui import launch
from terminal.kivy_setup import WindowSpec


def main() -> None:
    script, log, *options = sys.argv[1:]

    def scripted(runtime: GateRuntime, settings: GateConfig, spec: WindowSpec) -> None:
        app = launch.make_app(runtime, settings, spec)  # configures Kivy: the driver's Kivy imports come after
        from terminal.kivy_setup import handle_signals
        from tests.gate.driver import attach

        _driver = attach(app, Path(script), Path(log))  # held here while the window runs
        handle_signals(app)
        app.run()

    launch.launch = scripted  # the gate's own start-up, with the driver attached before the window runs
    sys.argv = ["estate gate", *options]
    typer.run(cli.run)


if __name__ == "__main__":
    main()
