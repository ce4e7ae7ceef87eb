"""Output conventions of the diagnostics CLI: JSON lines on stdout, human messages on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer


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
