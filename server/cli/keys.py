"""`estate keys …`: the Ed25519 keys that sign release slips, and the key cabinet's overdue loans."""

from __future__ import annotations

import json

import typer

from server.cli.admin import EstateOpt
from server.cli.context import estate_by_code, transaction
from server.db.base import utcnow
from server.db.models import KeyLoan
from server.domain.actors import cli_actor
from server.domain.keys import loans
from server.domain.slips import keys

keys_app = typer.Typer(
    no_args_is_help=True, help="Slip signing keys (list, rotate) and the key cabinet's overdue loans (sweep, overdue)."
)


@keys_app.command("list")
def list_keys() -> None:
    """Print the published keys, one JSON object a line."""
    with transaction() as session:
        for key in keys.published(session, utcnow()):
            until = key.publish_until.isoformat() if key.publish_until else None
            typer.echo(json.dumps({"key_id": key.key_id, "active": key.active, "publish_until": until}))


@keys_app.command("rotate")
def rotate() -> None:
    """Start signing new slips with a new key; the old one stays published until its slips expire."""
    with transaction() as session:
        keys.active_key(session)
        key = keys.rotate(session, cli_actor("keys rotate"))
        typer.echo(json.dumps({"key_id": key.id, "active": True}))
    typer.echo(f"new slips are now signed with key {key.id}", err=True)


@keys_app.command("sweep")
def sweep() -> None:
    """Flag the key loans that became overdue, in every estate: each is recorded once in the audit log as an
    alert (the server also does this every minute while it runs). Prints each loan flagged now."""
    with transaction() as session:
        lines = [_loan_line(loan) for loan in loans.flag_all_overdue(session, cli_actor("keys sweep"), utcnow())]
    for line in lines:  # once the flags are committed
        typer.echo(json.dumps(line, ensure_ascii=False))
    typer.echo(f"{len(lines)} overdue loan(s) flagged", err=True)


@keys_app.command("overdue")
def overdue(estate: EstateOpt = None) -> None:
    """Print the estate's overdue key loans, longest overdue first, one JSON object a line."""
    with transaction(reader=True) as session:
        for loan in loans.overdue(session, estate_by_code(session, estate), utcnow()):
            typer.echo(json.dumps(_loan_line(loan), ensure_ascii=False))


def _loan_line(loan: KeyLoan) -> dict[str, object]:
    return {
        "loan": loan.id,
        "key": loan.key.label,
        "borrower": loan.borrower_name,
        "due_at": loan.due_at.isoformat() if loan.due_at else None,
        "flagged_at": loan.overdue_flagged_at.isoformat() if loan.overdue_flagged_at else None,
        "acknowledged": loan.overdue_ack_at is not None,
    }
