"""The dependency audit step fails on a known vulnerability unless it is ignored on purpose, and never passes a
report in which nothing could be audited as if it were clean."""

from __future__ import annotations

import json
import subprocess

import pytest

from scripts import audit_deps

VULNERABLE = {
    "dependencies": [
        {"name": "requests", "version": "2.19.0", "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"]}]},
        {"name": "idna", "version": "3.10", "vulns": []},
        {"name": "private-pkg", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ]
}


def test_a_known_vulnerability_is_reported_with_its_fix() -> None:
    found, skipped, audited = audit_deps.findings(VULNERABLE)
    assert found == ["requests 2.19.0: PYSEC-2018-28 (fixed in 2.20.0)"]
    assert len(skipped) == 1 and audited == 2


def test_an_ignored_vulnerability_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(audit_deps.IGNORED, "PYSEC-2018-28", "only reachable through proxies we never use")
    assert audit_deps.findings(VULNERABLE)[0] == []


def test_a_report_with_nothing_audited_is_not_clean() -> None:
    found, skipped, audited = audit_deps.findings({"dependencies": VULNERABLE["dependencies"][2:]})
    assert found == [] and audited == 0 and skipped


@pytest.mark.parametrize(("strict", "code"), [("1", 1), ("", 0)])
def test_an_audit_that_reached_no_vulnerability_data_fails_where_it_must_run(
    monkeypatch: pytest.MonkeyPatch, strict: str, code: int
) -> None:
    """With ESTATE_AUDIT_STRICT=1 (set it where PyPI's vulnerability data is reachable), an audit that could look
    nothing up fails instead of passing unaudited; without it, it says NOT AUDITED and lets the tests run."""
    report = json.dumps({"dependencies": VULNERABLE["dependencies"][2:]})
    ran = subprocess.CompletedProcess(args=[], returncode=0, stdout=report, stderr="")
    monkeypatch.setattr(audit_deps.subprocess, "run", lambda *_a, **_k: ran)
    monkeypatch.setenv("ESTATE_AUDIT_STRICT", strict)
    assert audit_deps.main() == code
