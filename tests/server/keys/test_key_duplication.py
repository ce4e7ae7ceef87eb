"""Key duplication requests (R-KEY-11)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from server.db.models import DuplicationState, Role, StaffUser
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import duplication
from tests.server.keys.conftest import NOW, Cabinet


@pytest.mark.parametrize("label", ["水泵房", "5栋1单元1层"])
def test_r_key_11_public_door_and_plant_room_keys_are_copied_only_with_the_general_managers_approval(
    db: Session, cabinet: Cabinet, make_user: Callable[..., StaffUser], label: str
) -> None:
    """R-KEY-11: neither the key keeper, nor the CS manager, nor the system administrator may approve; the general
    manager may."""
    request = duplication.request_duplication(
        db, SYSTEM, cabinet.estate, cabinet.key(label).id, "备用钥匙磨损", by=cabinet.admin, now=NOW
    )
    for role in (Role.records_admin, Role.cs_manager, Role.admin):
        with pytest.raises(DomainError) as refused:
            duplication.decide(db, SYSTEM, request, approve=True, by=make_user(role), now=NOW)
        assert refused.value.code == "needs_general_manager" and request.state == DuplicationState.requested
    manager = make_user(Role.general_manager)
    duplication.decide(db, SYSTEM, request, approve=True, by=manager, now=NOW)
    assert (request.state, request.decided_by_id) == (DuplicationState.approved, manager.id)


def test_a_unit_key_copy_is_decided_by_the_key_keeper(db: Session, cabinet: Cabinet) -> None:
    request = duplication.request_duplication(
        db, SYSTEM, cabinet.estate, cabinet.key("2-5C").id, "业主要求", by=cabinet.admin, now=NOW
    )
    duplication.decide(db, SYSTEM, request, approve=False, by=cabinet.admin, now=NOW, note="请业主自行配制")
    assert request.state == DuplicationState.refused
