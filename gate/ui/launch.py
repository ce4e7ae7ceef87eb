"""Start the gate window from its settings and runtime (Kivy is configured here, before its window module loads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gate.runtime import GateConfig, GateRuntime
from terminal.kivy_setup import WindowSpec, prepare

if TYPE_CHECKING:
    from gate.ui.app import GateApp


def make_app(runtime: GateRuntime, settings: GateConfig, spec: WindowSpec) -> GateApp:
    """The configured Kivy app (not yet running) on the gate's runtime."""
    prepare(spec, settings.font, home=settings.data_dir / "kivy")
    from gate.ui.app import GateApp

    return GateApp(runtime, settings.language, spec)


def launch(runtime: GateRuntime, settings: GateConfig, spec: WindowSpec) -> None:
    """Run the gate window; SIGTERM, SIGINT and SIGHUP close it as its own close would."""
    from terminal.kivy_setup import handle_signals
    from terminal.systemd import Watchdog, keep_kivy_alive

    app = make_app(runtime, settings, spec)
    handle_signals(app)
    keep_kivy_alive(Watchdog())
    app.run()
