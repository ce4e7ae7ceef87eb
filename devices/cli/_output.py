"""Output conventions of the diagnostics CLI: JSON lines on stdout, human messages on stderr, plain help."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click
import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def emit(obj: dict[str, Any]) -> None:
    """Print one result as a JSON line and flush, so a reading process sees it at once."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """A message for the person at the terminal."""
    typer.echo(message, err=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Report a failure on stderr and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


_VALUE_NAMES = {int: "INTEGER", float: "NUMBER", str: "TEXT"}


def _plain(params: list[Any]) -> list[Any]:
    """Value names a technician reads (URL, INTEGER, a|b) instead of Typer's type tags (<bool>, <str>); nothing
    after a flag."""
    for param in params:
        if not isinstance(param, TyperOption | TyperArgument) or param.metavar is not None:
            continue
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
            continue
        if isinstance(param, TyperArgument):
            # An argument shows its name (FILES) and its help; Typer would add a tag column that ignores metavar.
            param.metavar = (param.name or "value").upper()
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            continue
        described = param.type_descriptor
        if described.is_choice:
            param.metavar = "|".join(str(getattr(c, "value", c)) for c in described.choices or ())
        elif described.is_path:
            param.metavar = "PATH"
        else:
            names = {"--printer", "--camera", "--cabinet"} & set(getattr(param, "opts", ()))
            param.metavar = "URL" if names else _VALUE_NAMES.get(described.annotation, "TEXT")
    return params


def plain_help(command: click.Command) -> click.Command:
    """`command` and every sub-command under it with plain value names in their help (for commands built elsewhere,
    such as the server's, that do not use the classes below)."""
    original = command.get_params
    command.get_params = lambda ctx: _plain(original(ctx))  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
    return command


class PlainHelpCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))


class PlainHelpGroup(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))
