"""Alembic environment: runs against the engine the caller put in the config's attributes."""

from __future__ import annotations

from alembic import context

from server.db.base import Base
from server.db.models import AuditEntry  # noqa: F401  (loads every model into the metadata)

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
