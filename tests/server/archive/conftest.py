"""Archive room fixtures: cheap password hashing (the rules make several staff accounts; hashing is not tested)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from server.domain import secrets


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))
