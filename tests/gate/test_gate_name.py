"""A gate names itself as it was enrolled on the server unless its settings give a name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gate.store import LocalStore
from gate.verifier import DEVICE, OfflineVerifier
from server.contract.device import DeviceInfo

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ENROLLED = DeviceInfo(
    id=3, kind="gate", name="北门岗", location="北门", estate_code="GH", estate_name="观海台", timezone="Asia/Shanghai"
)


def test_the_enrolled_name_once_synced_unless_one_is_configured(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "cache.db", tmp_path / "outbox.db")
    unnamed, named = OfflineVerifier(store, None), OfflineVerifier(store, "东门")
    assert unnamed.gate_name == "本门岗"  # before the first sync
    store.save_reference(DEVICE, ENROLLED, None, NOW)
    unnamed.reload()
    named.reload()
    assert unnamed.gate_name == "北门岗" and named.gate_name == "东门"
    store.close()
