"""Console routes: sign-in, sign-out, language and estate switch (the dashboard: dashboard_pages)."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.config import Settings
from server.console.pages import LANG_COOKIE, form_action, render
from server.contract.fields import Text
from server.domain import staff
from server.domain.errors import Forbidden
from server.web.deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE, CurrentConsole, DbSession, Now, SettingsDep, client_ip
from server.web.params import RowIdForm

router = APIRouter(include_in_schema=False)
_LOGIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/console/") and "//" not in target else "/console/"


def _secure(request: Request) -> bool:
    """Cookies are Secure when configured, and always when the request came over HTTPS."""
    return request.app.state.settings.secure_cookies or request.url.scheme == "https"


def _login_page(request: Request, *, status: int = 200, **context: object) -> Response:
    """The sign-in form with its CSRF token, also set as a cookie only this form's post sends back. The browser's
    token is kept while it has one: a second sign-in page (another tab, or a page's images sent to sign-in when its
    session ended) must not make the first one's form expire."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not _LOGIN_TOKEN.fullmatch(token):
        token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status=status, csrf_token=token, **context)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/console/login",
        secure=_secure(request),
    )
    return response


@router.get("/login")
def login_form(request: Request, next: Text = "/console/", error: Text = "") -> Response:
    return _login_page(request, next=_safe_next(next), error=error)


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    username: Annotated[Text, Form(max_length=40)],
    password: Annotated[Text, Form(max_length=200)],
    csrf_token: Annotated[Text, Form(max_length=100)] = "",
    next: Annotated[Text, Form(max_length=200)] = "/console/",
) -> Response:
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not hmac.compare_digest(csrf_token, cookie_token):
        raise Forbidden(
            "表单已失效，请刷新页面后重试", "the form has expired; reload the page and try again", code="csrf_failed"
        )
    policy = staff.LoginPolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_lockout_minutes),
        session_lifetime=timedelta(hours=settings.session_hours),
    )

    def signed_in() -> Response:
        _user, cookie, _row = staff.sign_in(db, username, password, client_ip(request), policy, now)
        return _session_started(request, settings, cookie, next)

    def form_again(status: int, message: str) -> Response:  # a failed attempt stays recorded (keep_changes)
        return _login_page(request, status=status, next=_safe_next(next), error=message, username=username)

    return form_action(request, db, signed_in, form_again)


def _session_started(request: Request, settings: Settings, cookie: str, next: str) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        path="/",
        secure=_secure(request),
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/logout")
def logout(console: CurrentConsole, db: DbSession) -> Response:
    staff.sign_out(db, db.merge(console.session))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang")
def switch_language(request: Request, to: Text, next: Text = "/console/") -> Response:
    """Switch the language and go back to the same page with the same filters (`next`, path and query). A listing
    whose filters changed by HTMX since it was drawn has pushed them into the address bar, which the browser sends
    as the referrer: that address wins when it is the same page of this site."""
    came_from = urlsplit(request.headers.get("referer", ""))
    if came_from.netloc == request.url.netloc and came_from.path == urlsplit(next).path:
        next = urlunsplit(("", "", came_from.path, came_from.query, ""))
    response = RedirectResponse(_safe_next(next) if next != "/console/login" else "/console/login", status_code=303)
    if to in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, to, samesite="lax", path="/", max_age=365 * 86400)
    return response


@router.post("/estate")
def switch_estate(
    console: CurrentConsole,
    db: DbSession,
    estate_id: RowIdForm,
    next: Annotated[Text, Form(max_length=200)] = "/console/",
) -> Response:
    if estate_id not in {e.id for e in console.estates}:
        raise Forbidden("您无权管理该小区", "you may not work in that estate", code="estate_denied")
    db.merge(console.session).estate_id = estate_id
    return RedirectResponse(_safe_next(next), status_code=303)
