"""The server's commands in one Typer app, for the `estate` command to mount."""

from __future__ import annotations

import typer

from server.cli import admin, calendar, keys, residents, serve, service

app = typer.Typer(no_args_is_help=True, help="The estate-desk server.")
app.command("serve")(serve.serve)
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.audit_app, name="audit")
residents.mount(admin.residents_app)
app.add_typer(admin.residents_app, name="residents")
app.add_typer(admin.estates_app, name="estates")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(calendar.calendar_app, name="calendar")
app.add_typer(service.service_app, name="service")
