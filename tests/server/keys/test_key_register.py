"""The key register: boards and slots, tags, sets, the slot layout and storing (R-KEY-4, 6, 7, 10)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, Holder, Key, KeyGroup, KeyKind, KeySet, Role, SetCopy, StaffUser
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import layout, register
from server.domain.keys.register import KeySpec
from tests.conftest import Household
from tests.server.keys.conftest import NOW, Cabinet, accept, counts, receive


def test_slot_outside_the_board_is_a_clear_error_and_changes_nothing(db: Session, cabinet: Cabinet) -> None:
    key = cabinet.key("2-5C")
    before, home = counts(db), (key.board, key.slot)
    with pytest.raises(DomainError) as refused:
        register.set_home_slot(db, SYSTEM, key, 1, 13)
    assert refused.value.code == "slot_outside_board" and "1–12" in refused.value.en
    with pytest.raises(DomainError) as unknown:
        register.set_home_slot(db, SYSTEM, key, 9, 1)
    assert unknown.value.code == "unknown_board"
    db.rollback()
    assert counts(db) == before and (db.get_one(Key, key.id).board, key.slot) == home


def test_a_slot_is_the_home_of_one_key(db: Session, cabinet: Cabinet) -> None:
    other = cabinet.key("10-2A")
    with pytest.raises(DomainError) as refused:
        register.set_home_slot(db, SYSTEM, cabinet.key("2-5C"), other.board or 0, other.slot or 0)
    assert refused.value.code == "slot_taken" and "10-2A" in refused.value.en


def test_a_tag_registered_twice_is_refused_and_nothing_is_written(
    db: Session, estate: Estate, cabinet: Cabinet
) -> None:
    batch = receive(db, estate, cabinet.admin, 2)
    db.commit()
    before = counts(db)
    with pytest.raises(DomainError) as refused:  # 0A01 is already 5-8B's door key
        register.register_set(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("5-3A 新", "0a-01")], unit_code="5-3A")
    assert refused.value.code == "tag_taken" and "5-8B 入户门" in refused.value.en
    with pytest.raises(DomainError) as twice:
        register.register_set(
            db, SYSTEM, batch, KeyGroup.unit, [KeySpec("x", "EE99"), KeySpec("y", "ee99")], unit_code="5-3A"
        )
    assert twice.value.code == "tag_taken"
    db.rollback()
    assert counts(db) == before


def test_a_bad_tag_or_board_is_a_clear_error(db: Session, estate: Estate) -> None:
    with pytest.raises(DomainError) as bad_tag:
        register.normal_tag("钥匙")
    assert bad_tag.value.code == "bad_tag"
    with pytest.raises(DomainError) as bad_board:
        register.add_board(db, SYSTEM, estate, 1, 0)
    assert bad_board.value.code == "bad_board"


def test_r_key_6_labels_name_the_unit_entrance_and_floor_or_plant_room(db: Session, cabinet: Cabinet) -> None:
    """R-KEY-6: unit keys per unit, public doors by building entrance and floor, plant rooms by equipment."""
    labels = {s.opens: s.label for s in db.scalars(select(KeySet))}
    assert labels[KeyGroup.public_door] == "5栋1单元 1层 公共门窗"
    assert labels[KeyGroup.rectification] == "5-3A 整改"
    assert {s.label for s in db.scalars(select(KeySet).where(KeySet.opens == KeyGroup.plant_room))} == {
        "水泵房（在用）",
        "水泵房（备用）",
    }


def test_r_key_7_layout_in_the_manuals_order_with_each_buildings_start_marked(db: Session, cabinet: Cabinet) -> None:
    """R-KEY-7: building → floor → unit ascending (building 2 before 10), slots left→right, top→bottom, each
    building's first slot marked; plant rooms after the buildings, in use before spare."""
    order = [(k.slot, k.label, k.building_start) for k in db.scalars(select(Key).order_by(Key.slot))]
    assert order == [
        (1, "2-5C", True),
        (2, "5-3A", True),
        (3, "5-3A 整改", False),
        (4, "5-8B 入户门", False),
        (5, "5-8B 信箱", False),
        (6, "5栋1单元1层", False),
        (7, "10-2A", True),
        (8, "水泵房", True),
        (9, "水泵房备用", False),
    ]
    assert all(k.board == 1 for k in db.scalars(select(Key)))


def test_r_key_7_a_layout_that_does_not_fit_is_refused(db: Session, estate: Estate, cabinet: Cabinet) -> None:
    batch = receive(db, estate, cabinet.admin, 4)
    register.register_set(
        db, SYSTEM, batch, KeyGroup.unit, [KeySpec(f"k{i}", f"FF0{i}") for i in range(4)], unit_code="5-3A"
    )
    accept(db, batch, cabinet.admin)
    with pytest.raises(DomainError) as full:
        layout.plan(db, estate)
    assert full.value.code == "cabinet_full" and "12" in full.value.en and "13" in full.value.en


def test_r_key_4_sets_are_registered_and_stored_one_at_a_time(
    db: Session, estate: Estate, household: Household, staff: Callable[[Role], StaffUser]
) -> None:
    """R-KEY-4: each set is registered whole (its keys together) and stored on its own once the batch is accepted
    and every key has its slot; a set is stored once."""
    admin = staff(Role.records_admin)
    register.add_board(db, SYSTEM, estate, 3, 4)
    batch = receive(db, estate, admin, 1)
    key_set = register.register_set(
        db, SYSTEM, batch, KeyGroup.public_door, [KeySpec("", "AB12")], building="5", entrance="2", floor=3
    )
    with pytest.raises(DomainError) as unaccepted:
        register.store_set(db, SYSTEM, key_set, NOW)
    assert unaccepted.value.code == "intake_not_accepted"
    accept(db, batch, admin)
    with pytest.raises(DomainError) as no_slot:
        register.store_set(db, SYSTEM, key_set, NOW)
    assert no_slot.value.code == "no_slot"
    layout.apply_layout(db, SYSTEM, estate, NOW)
    assert register.store_set(db, SYSTEM, key_set, NOW).stored_at == NOW
    assert key_set.keys[0].label == "5栋2单元 3层 公共门窗"
    with pytest.raises(DomainError) as twice:
        register.store_set(db, SYSTEM, key_set, NOW)
    assert twice.value.code == "set_stored"


def test_r_key_10_plant_room_keys_are_an_in_use_and_a_spare_set_held_by_engineering(
    db: Session, cabinet: Cabinet
) -> None:
    """R-KEY-10: one set used by engineering, one spare kept by engineering; a third set or a set of neither kind is
    refused."""
    sets = list(db.scalars(select(KeySet).where(KeySet.opens == KeyGroup.plant_room)))
    assert {(s.copy, s.holder) for s in sets} == {
        (SetCopy.in_use, Holder.engineering),
        (SetCopy.spare, Holder.engineering),
    }
    batch = receive(db, cabinet.estate, cabinet.admin, 1)
    spec = [KeySpec("配电房", "CC01", KeyKind.tm)]
    with pytest.raises(DomainError) as neither:
        register.register_set(db, SYSTEM, batch, KeyGroup.plant_room, spec, equipment="配电房")
    assert neither.value.code == "plant_room_sets"
    with pytest.raises(DomainError) as third:
        register.register_set(db, SYSTEM, batch, KeyGroup.plant_room, spec, equipment="水泵房", copy=SetCopy.spare)
    assert third.value.code == "set_exists"
