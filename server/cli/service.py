"""`estate service …`: the service desk's escalation sweep (late orders, feedback forms and call tasks to the
supervisor)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from server.cli.context import open_engine, transaction
from server.db.base import utcnow
from server.domain.actors import cli_actor
from server.domain.service import escalation

T = TypeVar("T")
service_app = typer.Typer(no_args_is_help=True, help="The service desk: escalate late work to the supervisor (sweep).")


@service_app.command("sweep")
def sweep() -> None:
    """Escalate every late repair or cleaning order, feedback form and call task to the supervisor, in every
    estate: each once for its deadline, recorded in the audit log as `service.escalated` (the server also does this
    every minute while it runs; a sweep the server is running meanwhile is left to finish). Prints each record
    escalated now."""
    engine = open_engine()

    def run(work: Callable[[Session], T]) -> T:
        with transaction(engine) as session:
            return work(session)

    holder = f"cli:{socket.gethostname()}:{os.getpid()}"
    found = escalation.sweep(run, run, holder, cli_actor("service sweep"), utcnow())
    for item in found:
        line = {"entity": item.entity, "id": item.id, "number": item.number, "due_at": item.due_at.isoformat()}
        typer.echo(json.dumps(line, ensure_ascii=False))
    typer.echo(f"{len(found)} late record(s) escalated", err=True)
