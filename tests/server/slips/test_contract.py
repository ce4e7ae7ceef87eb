"""The contract kiosks and gates import: no server internals, and the typed client against a live server,
including an offline check with the downloaded public keys and revocations."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from server.contract import slip_token
from server.contract.client import ApiError, EstateClient, key_ring
from server.contract.schemas import CountedLine, ItemLineIn, ReleaseRequest, ResidentIdentity, SlipRequest
from server.db.models import Estate
from tests.conftest import Household

from .conftest import today


def test_the_contract_imports_no_database_web_or_domain_module() -> None:
    code = (
        "import sys, server.contract.client, server.contract.slip_token, server.contract.schemas\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'alembic')"
        " or m.startswith(('server.db', 'server.domain', 'server.web', 'server.api')))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_kiosk_and_gate_through_the_typed_client(
    live_server: str, estate: Estate, household: Household, make_device: object
) -> None:
    _k, kiosk_token = make_device("kiosk")  # type: ignore[operator]
    _g, gate_token = make_device("gate", "东门")  # type: ignore[operator]
    request = SlipRequest(
        unit="5-8B",
        applicant="owner",
        identity=ResidentIdentity(card="CARD0001"),
        items=[ItemLineIn(code="FRDG", quantity=1), ItemLineIn(name="旧床头柜", quantity=2)],
        planned_date=today(estate),
    )
    with EstateClient(live_server, kiosk_token) as kiosk, EstateClient(live_server, gate_token) as gate:
        slip = kiosk.request_slip(request)
        assert slip.print is not None and slip.print.qr_text == slip.token
        keys, etag = gate.keys()
        assert keys is not None and gate.keys(etag) == (None, etag)
        revocations, rev_etag = gate.revocations()
        assert revocations is not None and revocations.revoked == []
        claims = slip_token.verify(
            slip.token, key_ring(keys), estate="GH", now=datetime.now(UTC), revoked=set(revocations.revoked)
        )
        assert claims.number == slip.number  # checked offline, with public keys only
        assert gate.verify(slip.token).slip.items[1].name == "旧床头柜"
        lines = [CountedLine(line=1, counted=1), CountedLine(line=2, counted=2)]
        done = gate.release(ReleaseRequest(text=slip.token, guard="张保安", lines=lines), idempotency_key="k-00000001")
        assert done.outcome == "released"
        with pytest.raises(ApiError) as err:
            gate.verify(slip.token)
        assert err.value.code == "already_released" and err.value.detail["gate"] == "东门"
        changed, _ = gate.revocations(rev_etag)
        assert changed is not None and changed.released == [slip.number]
