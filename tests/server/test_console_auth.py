"""Console sign-in over HTTP: sessions, throttling, CSRF, and revocation taking effect at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import ConsoleSession, LoginAttempt, Role, StaffUser
from server.domain import staff
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError


def test_sign_in_sets_a_secure_session_cookie(client: TestClient, make_user, login) -> None:
    make_user("front_desk", username="alice")
    response = login(client, "alice", "correct-horse-1")
    assert response.status_code == 200 and "您好" in response.text
    cookie = next(h for h in response.history[0].headers.get_list("set-cookie") if h.startswith("estate_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_wrong_password_is_refused_and_recorded(client: TestClient, db: Session, make_user, login) -> None:
    make_user("front_desk", username="bob")
    response = login(client, "bob", "wrong-password")
    assert response.status_code == 401 and "用户名或密码错误" in response.text
    assert db.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False))) == 1


def test_repeated_failures_lock_even_the_right_password(client: TestClient, make_user, login) -> None:
    make_user("front_desk", username="carol")
    for _ in range(5):
        assert login(client, "carol", "guess").status_code == 401
    locked = login(client, "carol", "correct-horse-1")
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text


def test_login_without_its_csrf_token_is_refused(client: TestClient, make_user) -> None:
    make_user("front_desk", username="dave")
    response = client.post("/console/login", data={"username": "dave", "password": "correct-horse-1"})
    assert response.status_code == 403 and "表单已失效" in response.text


def test_form_post_without_csrf_token_is_refused(client: TestClient, make_user, login) -> None:
    make_user("front_desk", username="erin")
    login(client, "erin", "correct-horse-1")
    response = client.post("/console/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    # The session survived the refused post: the dashboard still opens.
    assert client.get("/console/").status_code == 200


def test_sign_out_ends_the_session(client: TestClient, db: Session, make_user, login, page_csrf) -> None:
    make_user("front_desk", username="fay")
    home = login(client, "fay", "correct-horse-1")
    client.post("/console/logout", data={"csrf_token": page_csrf(home.text)})
    assert db.scalar(select(func.count()).select_from(ConsoleSession)) == 0
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_deactivating_a_user_ends_their_session_at_once(client: TestClient, db: Session, make_user, login) -> None:
    user = make_user("front_desk", username="gus")
    login(client, "gus", "correct-horse-1")
    assert client.get("/console/", follow_redirects=False).status_code == 200
    staff.set_active(db, SYSTEM, db.get(StaffUser, user.id), False)
    db.commit()
    response = client.get("/console/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")


def test_language_switch(client: TestClient, make_user, login) -> None:
    make_user("front_desk", username="hana")
    login(client, "hana", "correct-horse-1")
    client.get("/console/lang?to=en")
    assert "Hello" in client.get("/console/").text
    client.get("/console/lang?to=zh")
    assert "您好" in client.get("/console/").text


def test_a_second_sign_in_page_leaves_the_first_ones_form_working(client: TestClient, make_user, page_csrf) -> None:
    """Another tab of the sign-in page, or a page's images redirected to sign-in after its session ended, keeps the
    browser's sign-in token: the form shown first still signs in."""
    make_user("front_desk", username="iris")
    first = client.get("/console/login")
    client.get("/console/login")
    response = client.post(
        "/console/login",
        follow_redirects=False,
        data={"username": "iris", "password": "correct-horse-1", "csrf_token": page_csrf(first.text)},
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/"


def test_unsafe_next_is_ignored(client: TestClient, make_user, page_csrf) -> None:
    make_user("front_desk", username="ivan")
    form = client.get("/console/login")
    response = client.post(
        "/console/login",
        follow_redirects=False,
        data={
            "username": "ivan",
            "password": "correct-horse-1",
            "csrf_token": page_csrf(form.text),
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/console/"


def test_a_username_that_grows_when_lowered_is_a_plain_refusal(client: TestClient, login) -> None:
    """ "İ" lowers to two characters: forty of them still fit the sign-in record and get a plain answer."""
    response = login(client, "İ" * 40, "wrong-password")
    assert response.status_code == 401 and "用户名或密码错误" in response.text


def test_a_username_longer_than_forty_after_lowering_is_refused_at_creation(db: Session) -> None:
    with pytest.raises(DomainError, match="1–40"):
        staff.create_user(
            db, SYSTEM, username="İ" * 30, display_name="x", role=Role.front_desk, password="long-enough-1"
        )


def test_failures_from_one_address_do_not_lock_its_other_accounts_out(
    client: TestClient, db: Session, make_user, login
) -> None:
    """Accounts behind one NAT address: many failures from it slow the address down for a minute, they do not lock
    every account behind it out for the lock-out window; the account that was guessed at stays locked."""
    make_user("front_desk", username="erin")
    make_user("front_desk", username="frank")
    for n in range(24):
        login(client, "erin" if n < 5 else f"ghost{n}", "guess")
    assert login(client, "frank", "correct-horse-1").status_code == 429  # the address is busy failing right now
    db.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=2)))
    db.commit()
    assert login(client, "frank", "correct-horse-1").status_code == 200
    assert login(client, "erin", "correct-horse-1").status_code == 429
