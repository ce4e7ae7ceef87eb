"""Slip rules in the domain: single use under concurrency on both databases, expiry at the end of the planned day
in the estate's zone, key rotation, the proxy path with its countersign, and the daily reconciliation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server.contract import slip_token
from server.db.engine import make_sessionmaker
from server.db.models import ApplicantKind, Device, Estate, ReleaseSlip, SlipRelease, SlipState
from server.domain import clock
from server.domain.errors import DomainError
from server.domain.slips import eligibility, issuing, keys, reconciliation
from server.domain.slips.gate import checking, releases
from server.domain.slips.gate.checking import Rejected
from tests.conftest import Household

from .conftest import STAFF, direct_slip


def test_two_gates_releasing_at_the_same_moment_give_one_release(
    engine: Engine, db: Session, estate: Estate, household: Household, make_device: Callable[..., Any], look: Any
) -> None:
    slip = direct_slip(db, estate, household)
    gates = [make_device("gate", name)[0].id for name in ("东门", "西门")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def use(device_id: int) -> None:
        with make_sessionmaker(engine)() as session:
            device = session.get(Device, device_id)
            assert device is not None
            _ = device.estate.code
            session.commit()
            barrier.wait()
            try:
                releases.release(session, STAFF, device, slip.token, "guard", [releases.Count(1, 1)])
                session.commit()
                outcomes.append("released")
            except Rejected as exc:
                session.rollback()
                outcomes.append(exc.code)

    threads = [threading.Thread(target=use, args=(g,)) for g in gates]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_released", "released"]
    assert look(select(func.count()).select_from(SlipRelease)) == 1


def test_validity_ends_with_the_planned_day_in_the_estates_zone(
    db: Session, estate: Estate, household: Household
) -> None:
    # 23:50 in Shanghai on 27 November is 15:50 UTC: the slip is that day's, numbered with that day.
    late = datetime(2026, 11, 27, 15, 50, tzinfo=UTC)
    slip = direct_slip(db, estate, household, now=late)
    assert slip.number.startswith("GH-20261127-") and slip.day == date(2026, 11, 27)
    assert slip.valid_until == datetime(2026, 11, 27, 15, 59, 59, tzinfo=UTC)
    device = Device(estate_id=estate.id, kind="gate", name="东门")
    db.add(device)
    db.flush()
    assert checking.find_scanned(db, estate, slip.token, late + timedelta(minutes=9)).id == slip.id
    with pytest.raises(Rejected) as err:  # 00:00:00 on the 28th, Shanghai time
        checking.find_scanned(db, estate, slip.token, datetime(2026, 11, 27, 16, 0, tzinfo=UTC))
    assert err.value.code == "expired"
    # Ten minutes later it is the 28th in Shanghai (still the 27th in UTC): numbering starts again.
    after = direct_slip(db, estate, household, now=datetime(2026, 11, 27, 16, 10, tzinfo=UTC))
    assert after.number == "GH-20261128-0001"
    assert reconciliation.expire_due(db, STAFF, estate, datetime(2026, 11, 27, 16, 0, 1, tzinfo=UTC)) == [slip.number]
    assert slip.state == SlipState.expired


def test_rotation_old_slips_still_verify_new_slips_use_the_new_key(
    db: Session, estate: Estate, household: Household
) -> None:
    old = direct_slip(db, estate, household)
    first = keys.active_key(db).id
    rotated = keys.rotate(db, STAFF)
    db.commit()
    new = direct_slip(db, estate, household)
    assert slip_token.decode(old.token).claims.key_id == first
    assert slip_token.decode(new.token).claims.key_id == rotated.id != first
    now = issuing.utcnow()
    for slip in (old, new):
        assert checking.find_scanned(db, estate, slip.token, now).id == slip.id
    published = {k.key_id: k for k in keys.published(db, now)}
    assert published[rotated.id].active and not published[first].active
    assert published[first].publish_until == old.valid_until
    # Once the old key's last slip has expired it is no longer published.
    assert first not in {k.key_id for k in keys.published(db, old.valid_until + timedelta(seconds=1))}


def proxy_details(**changes: Any) -> eligibility.ProxyDetails:
    values: dict[str, Any] = {
        "proxy_name": "陈代办",
        "proxy_phone": "13900000003",
        "confirmed_by": "前台小周",
        "confirmed_at": datetime.now(UTC) - timedelta(minutes=3),
        "confirmation": "业主确认搬出沙发一张",
        "id_image": b"\x89PNG fake id",
        "id_media_type": "image/png",
    }
    values.update(changes)
    return eligibility.ProxyDetails(**values)


def test_proxy_needs_the_owners_phone_confirmation_and_id_copy(
    db: Session, estate: Estate, household: Household
) -> None:
    """R-REL-3: a proxy gets a slip only at the desk, after the owner confirmed by phone and the ID was copied."""
    day = clock.local_day(estate, issuing.utcnow())

    def check(**kw: Any) -> eligibility.Applicant:
        return eligibility.check(
            db, STAFF, estate, household.unit, ApplicantKind.proxy, household.owner, today=day, **kw
        )

    with pytest.raises(DomainError) as err:
        check(channel="kiosk", proxy=proxy_details())
    assert err.value.code == "proxy_console_only"
    for change, code in [
        ({"confirmed_by": ""}, "owner_confirmation_missing"),
        ({"confirmation": " "}, "owner_confirmation_missing"),
        ({"id_image": b""}, "proxy_id_missing"),
        ({"id_media_type": "application/pdf"}, "bad_id_image"),
        ({"proxy_name": ""}, "proxy_name_missing"),
        ({"confirmed_at": datetime.now(UTC) + timedelta(hours=2)}, "bad_confirmation_time"),
    ]:
        with pytest.raises(DomainError) as err:
            check(channel="console", proxy=proxy_details(**change))
        assert err.value.code == code
    with pytest.raises(DomainError) as err:  # a proxy acts for the owner, not for the tenant
        eligibility.check(
            db,
            STAFF,
            estate,
            household.unit,
            ApplicantKind.proxy,
            household.tenant,
            channel="console",
            today=day,
            proxy=proxy_details(),
        )
    assert err.value.code == "not_owner"
    applicant = check(channel="console", proxy=proxy_details())
    slip = issuing.issue(
        db,
        STAFF,
        estate,
        household.unit,
        applicant,
        issuing.SlipDraft([issuing.LineDraft("SOFA", None, 1)], day),
        channel="console",
    )
    assert slip.countersign_pending and slip.applicant_name == "陈代办" and slip.confirmed_by == "前台小周"
    issuing.countersign(db, STAFF, slip, "前台小周")
    assert not slip.countersign_pending and slip.countersigned_at is not None
    with pytest.raises(DomainError) as err:
        issuing.countersign(db, STAFF, slip, "前台小周")
    assert err.value.code == "no_countersign_pending"


def test_daily_reconciliation_counts_signs_and_flags_after_1730(
    db: Session, estate: Estate, household: Household, make_device: Callable[..., Any]
) -> None:
    day = date(2026, 11, 27)
    morning = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    slips = [direct_slip(db, estate, household, now=morning) for _ in range(4)]
    device = make_device("gate", "东门")[0]
    device = db.get(Device, device.id)
    releases.release(
        db, STAFF, device, slips[0].token, "老陈", [releases.Count(1, 1)], now=morning + timedelta(hours=1)
    )
    releases.release(
        db, STAFF, device, slips[1].token, "老陈", [releases.Count(1, 2)], now=morning + timedelta(hours=2)
    )
    issuing.cancel(db, STAFF, slips[2], "不搬了")
    db.commit()
    noon = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    report = reconciliation.report(db, STAFF, estate, day, now=noon)
    assert (report.issued, report.released, report.refused, report.cancelled, report.outstanding) == (4, 1, 1, 1, 1)
    assert report.gate_releases == 1 and [m.number for m in report.mismatches] == [slips[1].number]
    assert "条上 1 / 实点 2" in report.mismatches[0].reason
    assert reconciliation.overdue(db, estate, noon) is None
    late = datetime(2026, 11, 27, 9, 31, tzinfo=UTC)  # 17:31 in Shanghai
    assert reconciliation.overdue(db, estate, late) == day
    reconciliation.sign_off(db, STAFF, estate, day, "security", "治安队长", now=late)
    assert reconciliation.overdue(db, estate, late) == day  # both sides must sign
    with pytest.raises(DomainError) as err:
        reconciliation.sign_off(db, STAFF, estate, day, "security", "治安队长", now=late)
    assert err.value.code == "already_signed"
    row = reconciliation.sign_off(db, STAFF, estate, day, "records", "客户管理员", now=late)
    assert row.security_at and row.records_at and reconciliation.overdue(db, estate, late) is None
    # After midnight the unused slip has expired.
    next_day = datetime(2026, 11, 27, 16, 0, 5, tzinfo=UTC)
    assert reconciliation.report(db, STAFF, estate, day, now=next_day).expired == 1
    assert db.scalar(select(ReleaseSlip.state).where(ReleaseSlip.id == slips[3].id)) == SlipState.expired
