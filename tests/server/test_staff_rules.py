"""Rules on staff accounts that protect the console itself."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from server.db.models import Role
from server.domain import registry, staff
from server.domain.actors import SYSTEM, Actor
from server.domain.errors import DomainError


def test_the_last_active_admin_cannot_be_deactivated(db: Session, make_user) -> None:
    only = make_user("admin", username="root1")
    with pytest.raises(DomainError) as exc:
        staff.set_active(db, SYSTEM, only, False)
    assert exc.value.code == "last_admin"
    second = make_user("admin", username="root2")
    staff.set_active(db, SYSTEM, only, False)
    assert not only.is_active and second.is_active


def test_nobody_deactivates_their_own_account(db: Session, make_user) -> None:
    user = make_user("cs_manager", username="mgr")
    with pytest.raises(DomainError) as exc:
        staff.set_active(db, Actor("user", user.id, user.username), user, False)
    assert exc.value.code == "self_deactivate"


def test_a_display_name_is_required_and_all_estates_is_for_company_roles(db: Session) -> None:
    with pytest.raises(DomainError) as exc:
        staff.create_user(db, SYSTEM, username="x1", display_name="  ", role=Role.front_desk, password="long-enough")
    assert exc.value.code == "missing_name"
    with pytest.raises(DomainError) as exc:
        staff.create_user(
            db,
            SYSTEM,
            username="x2",
            display_name="前台",
            role=Role.front_desk,
            password="long-enough",
            all_estates=True,
        )
    assert exc.value.code == "all_estates_denied"
    gm = staff.create_user(
        db,
        SYSTEM,
        username="x3",
        display_name="高总",
        role=Role.general_manager,
        password="long-enough",
        all_estates=True,
    )
    assert gm.all_estates


def test_arrears_have_an_upper_bound(db: Session, estate) -> None:
    unit = registry.ensure_unit(db, SYSTEM, estate, "1-1A")
    registry.set_arrears(db, SYSTEM, unit, registry.MAX_ARREARS_FEN)
    with pytest.raises(DomainError):
        registry.set_arrears(db, SYSTEM, unit, registry.MAX_ARREARS_FEN + 1)
