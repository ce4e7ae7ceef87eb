"""The demo's key cabinet: a key set registered through the register's own rules (handover, 100% test, spot check,
layout in the manual's order), the simulator holding those very keys in their home slots, the agent's config
naming the boards, and a member of staff who can sign in at the cabinet with the printed card or PIN."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cabinet.agent import to_wire
from cabinet.config import CabinetConfig
from devices.cabinet.driver import Cabinet
from devices.cabinet.events import KeyRemoved
from devices.cabinet.tags import raw_tag, tag_hex, tag_id
from estate_cli import demo_devices
from server.contract.guard_secret import verify_secret
from server.db.models import (
    GuardCredential,
    Holder,
    IntakeState,
    Key,
    KeyGroup,
    KeyIntake,
    KeySet,
    SetCopy,
    StaffUser,
)
from server.demo import CABINET_CARD, CABINET_PIN, CABINET_USERNAME, KEY_UNITS, seed
from server.domain.actors import SYSTEM


def test_the_demo_registers_a_key_set_by_the_manual(db: Session) -> None:
    result = seed(db, SYSTEM)
    db.commit()
    sets = list(db.scalars(select(KeySet).order_by(KeySet.id)))
    by_group = {group: [s for s in sets if s.opens == group] for group in KeyGroup}
    assert sorted(s.label for s in by_group[KeyGroup.unit]) == sorted(KEY_UNITS)
    assert all(len(s.keys) == 2 for s in by_group[KeyGroup.unit])  # a unit's keys ringed together (R-KEY-2)
    assert [s.label for s in by_group[KeyGroup.public_door]] == ["1栋1单元 1层 公共门窗", "2栋1单元 1层 公共门窗"]
    # R-KEY-10: each plant room's keys in two sets, in use and spare, both held by engineering.
    plant = {(s.equipment, s.copy) for s in by_group[KeyGroup.plant_room]}
    assert plant == {(e, c) for e in ("水泵房", "配电房") for c in (SetCopy.in_use, SetCopy.spare)}
    assert {s.holder for s in by_group[KeyGroup.plant_room]} == {Holder.engineering}
    # R-KEY-1…4: one handover, accepted after the 100% test and the spot check; every set stored.
    assert [i.state for i in db.scalars(select(KeyIntake))] == [IntakeState.accepted]
    assert all(s.stored_at is not None for s in sets)
    keys = list(db.scalars(select(Key)))
    assert len(result.cabinet_keys) == len(keys) == 18
    # R-KEY-7: hung from board 1 slot 1 on, building by building, the plant rooms after the buildings.
    slots = [(board, slot) for _label, board, slot, _tag in result.cabinet_keys]
    assert slots == [(1, n) for n in range(1, 19)]
    labels = [label for label, *_ in result.cabinet_keys]
    assert labels[:2] == ["1-1A 入户门", "1-1A 信报箱"] and labels[-1] == "配电房（备用）"
    assert labels.index("1栋1单元 1层 公共门") < labels.index("2-1A 入户门")
    assert result.cabinet_boards == [(1, 24), (2, 24)]


def test_a_second_run_adds_no_keys_and_reports_the_same_cabinet(db: Session) -> None:
    first = seed(db, SYSTEM)
    db.commit()
    again = seed(db, SYSTEM)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Key)) == 18
    assert again.cabinet_keys == first.cabinet_keys and again.cabinet_staff == first.cabinet_staff


def test_the_printed_cabinet_card_and_pin_are_the_staff_members_credentials(db: Session) -> None:
    result = seed(db, SYSTEM)
    db.commit()
    user = db.scalars(select(StaffUser).where(StaffUser.username == CABINET_USERNAME)).one()
    credential = db.get(GuardCredential, user.id)
    assert credential is not None and credential.pin_hash and credential.card_hash
    assert verify_secret(credential.pin_hash, CABINET_PIN) and verify_secret(credential.card_hash, CABINET_CARD)
    assert not verify_secret(credential.pin_hash, "000000")
    assert result.cabinet_staff == (CABINET_USERNAME, user.display_name, CABINET_CARD, CABINET_PIN)


def test_the_demo_simulator_holds_the_registered_keys_and_the_agent_config_names_its_boards(
    db: Session, tmp_path: Path
) -> None:
    result = seed(db, SYSTEM)
    db.commit()
    hardware = demo_devices.start(
        tmp_path,
        printer_port=0,
        cabinet_port=0,
        cabinet_boards=result.cabinet_boards,
        cabinet_keys=result.cabinet_keys,
    )
    try:
        sim = hardware.cabinet.cabinet
        for label, board, slot, tag in result.cabinet_keys:
            held = sim.key_at(board, slot)
            assert held is not None and tag_hex(held) == tag, label
            # What the agent sends when this key leaves its slot names the key as the register knows it.
            assert to_wire(KeyRemoved(board=board, slot=slot, tag=tag_id(held)))["tag"] == tag
        held_keys = [(b, s) for b in (1, 2) for s in range(1, 25) if sim.key_at(b, s) is not None]
        assert len(held_keys) == len(result.cabinet_keys)
        config_path = demo_devices.agent_config(
            tmp_path / "agent", hardware.cabinet_url, "http://x", [(1, 24), (2, 24)]
        )
        settings = CabinetConfig.load(config_path, device_token="edt_demo").check()
        assert settings.panel == "keyboard" and settings.data_dir == tmp_path / "agent"
        assert {a: p.channels for a, p in settings.profiles().items()} == {1: 24, 2: 24}
        with Cabinet(settings.cabinet, settings.protocol, [1, 2], profiles=settings.profiles()) as driver:
            assert len(driver.query_board(2).doors_open) == 24
    finally:
        hardware.stop()
    assert raw_tag(result.cabinet_keys[0][3]) == sim.key_at(1, 1)
