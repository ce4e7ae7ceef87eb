"""Rendering console pages: the Jinja2 environment, the language in force, and error pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from server.console.i18n import pick_language, translate
from server.db.base import utcnow
from server.domain.errors import DomainError

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
LANG_COOKIE = "estate_lang"


def language(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE), request.app.state.settings.default_language)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    context.setdefault("console", None)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"lang": lang, "t": lambda key, **v: translate(lang, key, **v), "now": utcnow(), **context},
        status_code=status,
    )


def form_action(
    request: Request, db: Session, action: Callable[[], Response], form_again: Callable[[int, str], Response]
) -> Response:
    """A console form's handler: run its use case (`action`, which answers with a redirect or a page). When the rules
    refuse it, undo its changes, keeping only a refusal that must stay recorded (R-REL-5), and show the form again
    (`form_again(status, message)`) with the message in the reader's language."""
    try:
        return action()
    except DomainError as exc:
        db.commit() if exc.keep_changes else db.rollback()
        return form_again(exc.status, exc.text(language(request)))


R = TypeVar("R")


def record_step(
    request: Request,
    db: Session,
    load: Callable[[], R],
    take: Callable[[R], object],
    done_at: Callable[[R], str],
    page: Callable[[R, int, str], Response],
) -> Response:
    """A step taken on one record from its page (an order, a form): `take` it and go back to the record (`done_at`
    its URL with the confirmation); refused, the record's `page` again with the message, as the record stands
    (read anew: the refusal changed nothing)."""
    record = load()

    def act() -> Response:
        take(record)
        return RedirectResponse(done_at(record), status_code=303)

    def again(status: int, error: str) -> Response:
        db.expire_all()
        return page(load(), status, error)

    return form_action(request, db, act, again)


def error_page(request: Request, status: int, message: str) -> Response:
    if status == 401:
        return RedirectResponse(f"/console/login?next={request.url.path}", status_code=303)
    if request.headers.get("hx-request"):
        return HTMLResponse(f'<div class="flash error" role="alert">{_escape(message)}</div>', status_code=status)
    return render(request, "error.html", status=status, status_code=status, message=message)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
