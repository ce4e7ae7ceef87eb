"""`estate db …`, `estate users …`, `estate audit …`, `estate residents …`, `estate estates …`."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import select

from server.cli.context import estate_by_code, fail, open_engine, transaction
from server.config import get_settings
from server.db.migrate import current_revision, head_revision
from server.db.models import Role, StaffUser
from server.db.writer import make_writer
from server.domain import audit, guards, importing, registry, staff
from server.domain.actors import cli_actor

out = Console()
err = Console(stderr=True)

db_app = typer.Typer(no_args_is_help=True, help="The database: migrations and status.")
users_app = typer.Typer(no_args_is_help=True, help="Staff accounts of the console.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
residents_app = typer.Typer(no_args_is_help=True, help="The resident registry.")
estates_app = typer.Typer(no_args_is_help=True, help="Estates managed on this server.")

EstateOpt = Annotated[str | None, typer.Option("--estate", help="Estate code, e.g. GH (optional with one estate).")]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (the server also does this on start)."""
    engine = open_engine()
    typer.echo(f"database {engine.url.render_as_string()} at revision {current_revision(engine)}")


@db_app.command("status")
def db_status() -> None:
    """Show the database URL and whether its schema is current."""
    engine = open_engine(migrate=False)
    current, head = current_revision(engine), head_revision()
    typer.echo(
        json.dumps(
            {"url": engine.url.render_as_string(), "revision": current, "head": head, "current": current == head}
        )
    )
    if current != head:
        raise typer.Exit(1)


@estates_app.command("add")
def estates_add(
    code: str,
    name: str,
    name_en: Annotated[str, typer.Option("--name-en")] = "",
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA zone, e.g. Asia/Shanghai (default: ESTATE_TIMEZONE).")
    ] = None,
) -> None:
    """Add an estate, e.g. `estate estates add GH 观海台 --name-en Guanhaitai --timezone Asia/Shanghai`."""
    zone = timezone or get_settings().timezone
    with transaction() as session:
        estate = registry.create_estate(session, cli_actor("estates add"), code, name, name_en, timezone=zone)
        typer.echo(f"estate {estate.code} {estate.name} added ({estate.timezone})")


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[Role, typer.Option(help="The staff role.")],
    display_name: Annotated[str, typer.Option("--name", help="Name shown in the console.")] = "",
    estate: Annotated[list[str] | None, typer.Option("--estate", help="Estate code; repeat for several.")] = None,
    all_estates: Annotated[bool, typer.Option("--all-estates")] = False,
    password: Annotated[str | None, typer.Option(help="Omit to be asked without echo.")] = None,
) -> None:
    """Create a staff account."""
    secret = password or getpass.getpass("password: ")
    with transaction() as session:
        estates = [estate_by_code(session, code) for code in (estate or [])]
        user = staff.create_user(
            session,
            cli_actor("users create"),
            username=username,
            display_name=display_name or username,
            role=role,
            password=secret,
            estates=estates,
            all_estates=all_estates,
        )
        typer.echo(f"user {user.username} ({user.role.value}) created")


@users_app.command("list")
def users_list() -> None:
    """List staff accounts."""
    with transaction(reader=True) as session:
        table = Table("username", "name", "role", "estates", "active")
        for user in session.scalars(select(StaffUser).order_by(StaffUser.username)):
            estates = "all" if user.all_estates else ",".join(e.code for e in user.estates)
            table.add_row(user.username, user.display_name, user.role.value, estates, "yes" if user.is_active else "no")
        out.print(table)


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate an account; its console sessions end at once."""
    with transaction() as session:
        staff.set_active(session, cli_actor("users deactivate"), staff.user_by_name(session, username), False)
        typer.echo(f"user {username} deactivated")


@users_app.command("password")
def users_password(username: str, password: Annotated[str | None, typer.Option()] = None) -> None:
    """Set a new password; the user's sessions end."""
    secret = password or getpass.getpass("new password: ")
    with transaction() as session:
        staff.set_password(session, cli_actor("users password"), staff.user_by_name(session, username), secret)
        typer.echo(f"password of {username} changed")


def users_credentials(
    username: str,
    estate: EstateOpt = None,
    pin: Annotated[str | None, typer.Option(help="6–8 digits; omit to be asked without echo")] = None,
    card: Annotated[str | None, typer.Option(help="the staff card number, as the card reader types it")] = None,
) -> None:
    """Give a member of staff a PIN and/or staff card: for signing in at the key cabinet (any role) and, for a
    gate guard, at the gate terminal. A card belongs to one member of staff of the estate."""
    secret = pin if pin is not None or card is not None else getpass.getpass("PIN: ")
    with transaction() as session:
        user = staff.user_by_name(session, username)
        guards.set_credentials(
            session, cli_actor("users credentials"), estate_by_code(session, estate), user, pin=secret, card=card
        )
        where = "gate and key cabinet" if user.role == Role.gate_guard else "key cabinet"
        typer.echo(f"{where} sign-in of {username} set")


users_app.command("credentials")(users_credentials)
# The command's first name, from when only guards had a PIN or card; the same command.
users_app.command("gate-credentials", help="The same as `estate users credentials`.")(users_credentials)


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        str | None,
        typer.Option(
            help='a chain head printed on a daily reconciliation ("#SEQ HASH"): that entry must still be in the log, '
            "unchanged"
        ),
    ] = None,
) -> None:
    """Check the audit chain end to end; name the first altered or missing entry."""
    try:
        printed = audit.Anchor.parse(head) if head is not None else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    with transaction(reader=True) as session:
        report = audit.verify(session, printed=printed)
    typer.echo(
        json.dumps(
            {
                "ok": report.ok,
                "entries": report.entries,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
            },
            ensure_ascii=False,
        )
    )
    if not report.ok:
        raise fail(f"audit chain broken: {report.problem}", 1)


# Seconds an import from the command line leaves a SQLite file's writer free after each chunk, for a server running
# on the same file (see importing.import_residents).
IMPORT_PAUSE = 0.005


@residents_app.command("import")
def residents_import(sheet: Path, estate: EstateOpt = None) -> None:
    """Import residents from an .xlsx or .csv sheet. Any bad row is reported and nothing is imported."""
    if not sheet.is_file():
        raise fail(f"no such file: {sheet}")
    content = sheet.read_bytes()
    engine = open_engine()
    # Read from a snapshot and write in short chunks: a running server's writes never wait long for the import.
    with transaction(engine, reader=True) as session:
        target = estate_by_code(session, estate)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
            task = bar.add_task(f"importing {sheet.name}", total=None)
            report = importing.import_residents(
                session,
                cli_actor("residents import"),
                target,
                sheet.name,
                content,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                writer=make_writer(engine),
                pause=IMPORT_PAUSE if engine.dialect.name == "sqlite" else 0.0,
            )
        if not report.ok:
            session.rollback()
            table = Table("row", "column", "problem", title=f"{len(report.problems)} problems; nothing imported")
            for p in report.problems:
                table.add_row(str(p.row), p.column, f"{p.zh} / {p.en}")
            err.print(table)
            raise typer.Exit(1)
        typer.echo(
            json.dumps(
                {
                    "rows": report.rows,
                    "persons": report.persons_created,
                    "occupancies": report.occupancies_created,
                    "units": report.units_created,
                    "cards": report.cards_set,
                    "duplicates": report.skipped_duplicates,
                }
            )
        )
