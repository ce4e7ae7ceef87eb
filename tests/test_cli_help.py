"""Every `estate …` command's help names its values plainly (TEXT, INTEGER, PATH, a|b), never Typer's type tags
(<bool>, <str>), the server's and the demo's commands included, not only the diagnostics."""

from __future__ import annotations

import click
from click.testing import CliRunner
from typer.main import get_command

from devices.cli._output import plain_help
from estate_cli.main import app

TAGS = ("<bool>", "<str>", "<int", "<float>", "<list", "<Path", "<path")


def _paths(command: click.Command, path: list[str]) -> list[list[str]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found += _paths(sub, [*path, name])
    return found


def test_no_help_text_of_the_estate_command_shows_a_type_tag() -> None:
    command = plain_help(get_command(app))
    paths = _paths(command, [])
    assert ["demo"] in paths and ["calendar", "set"] in paths and ["users", "credentials"] in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(command, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        for tag in TAGS:
            assert tag not in result.output, (path, tag, result.output)
