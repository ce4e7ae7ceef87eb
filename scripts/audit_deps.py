"""`make audit` (and a step of `make test`): pip-audit over the packages installed from pyproject.toml into the
virtual environment. Fails on any known vulnerability that is not in IGNORED below.

pip-audit looks each package up in PyPI's vulnerability data. When that data cannot be reached for any package
(an index mirror without it, no network), nothing was audited: this says so on stderr and does not fail, unless
ESTATE_AUDIT_STRICT=1, so a machine without that service can still run the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Vulnerabilities accepted on purpose, each with the reason (none yet). Example:
#   "GHSA-xxxx-xxxx-xxxx": "fpdf2: only reachable through SVG input, which we never render",
IGNORED: dict[str, str] = {}


def findings(report: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """(vulnerabilities not ignored, packages that could not be audited, packages audited) of a pip-audit report."""
    found, skipped, audited = [], [], 0
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            if vuln["id"] not in IGNORED:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                found.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    return found, skipped, audited


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--skip-editable", "--format", "json", "--progress-spinner", "off"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        print(f"audit: pip-audit failed (exit {done.returncode}):\n{done.stderr}", file=sys.stderr)
        return 2
    found, skipped, audited = findings(report)
    for line in found:
        print(f"audit: VULNERABLE {line}", file=sys.stderr)
    if found:
        print("audit: upgrade these, or add them to IGNORED in scripts/audit_deps.py with the reason", file=sys.stderr)
        return 1
    if audited == 0 and skipped:
        print(
            f"audit: NOT AUDITED: PyPI's vulnerability data answered for none of {len(skipped)} packages "
            f"(first: {skipped[0]})",
            file=sys.stderr,
        )
        return 1 if os.environ.get("ESTATE_AUDIT_STRICT") == "1" else 0
    print(f"audit: {audited} packages, no known vulnerabilities; {len(skipped)} not audited", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
