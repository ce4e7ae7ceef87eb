"""`estate keys …`: the Ed25519 keys that sign release slips."""

from __future__ import annotations

import json

import typer

from server.cli.context import transaction
from server.db.base import utcnow
from server.domain.actors import cli_actor
from server.domain.slips import keys

keys_app = typer.Typer(no_args_is_help=True, help="Slip signing keys: list and rotate.")


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
