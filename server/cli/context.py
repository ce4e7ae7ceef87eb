"""What every server sub-command needs: settings, an engine on a migrated database, one clear error on failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.config import Settings, get_settings
from server.db.engine import DatabaseConfigError, make_engine, make_sessionmaker
from server.db.migrate import upgrade
from server.db.models import Estate
from server.domain.errors import DomainError


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def open_engine(settings: Settings | None = None, *, migrate: bool = True) -> Engine:
    settings = settings or get_settings()
    try:
        engine = make_engine(settings.effective_database_url)
    except DatabaseConfigError as exc:
        raise fail(str(exc)) from None
    if migrate:
        upgrade(engine)
    return engine


@contextmanager
def transaction(engine: Engine | None = None, *, reader: bool = False) -> Iterator[Session]:
    """One transaction for a command; a domain refusal is printed plainly and nothing is written."""
    engine = engine or open_engine()
    with make_sessionmaker(engine, reader=reader)() as session:
        try:
            yield session
            session.commit()
        except DomainError as exc:
            session.rollback()
            raise fail(str(exc), 1) from None


def estate_by_code(session: Session, code: str | None) -> Estate:
    estates = list(session.scalars(select(Estate).order_by(Estate.id)))
    if code is None:
        if len(estates) == 1:
            return estates[0]
        names = ", ".join(e.code for e in estates) or "none yet"
        raise fail(f"name the estate with --estate CODE (estates: {names})")
    for estate in estates:
        if estate.code == code.upper():
            return estate
    raise fail(f"no estate with code {code!r}")
