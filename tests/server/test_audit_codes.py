"""Issue 21, item 3: every action the server records has words in both languages (`audit_codes` lists them, the
console locales `audit.*` name them); the source is scanned so that a new `audit.record` call cannot go unlabelled."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from server.console.i18n import LANGUAGES, catalogue
from server.domain import audit_codes

SERVER = Path(__file__).parents[2] / "server"


def _record_calls() -> list[tuple[str, ast.Call, ast.expr, dict[str, ast.expr]]]:
    """Every `audit.record(…)` and `audit.record_plain(…)` call in the server's source: where it is, the call, and
    its action argument (a name read through its assignment, as `action = "a" if … else "b"`)."""
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assigned = {
            t.id: node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr in ("record", "record_plain") and getattr(node.func.value, "id", "") == "audit":
                action = node.args[2]
                action = assigned.get(action.id, action) if isinstance(action, ast.Name) else action
                found.append((f"{path.relative_to(SERVER)}:{node.lineno}", node, action, assigned))
    return found


def _patterns(action: ast.expr, constants: dict[str, ast.expr]) -> list[re.Pattern[str]]:
    """The codes an action expression can give: literals exactly, made-up parts (f-strings, `+`) as a wildcard."""
    if isinstance(action, ast.Constant):
        return [re.compile(re.escape(action.value))]
    if isinstance(action, ast.IfExp):
        return _patterns(action.body, constants) + _patterns(action.orelse, constants)
    if isinstance(action, ast.Name) and isinstance(constants.get(action.id), ast.Constant):
        return _patterns(constants[action.id], constants)
    if isinstance(action, ast.JoinedStr | ast.BinOp):
        parts = action.values if isinstance(action, ast.JoinedStr) else [action.left, action.right]
        parts = [constants.get(p.id, p) if isinstance(p, ast.Name) else p for p in parts]
        text = "".join(re.escape(p.value) if isinstance(p, ast.Constant) else "[a-z_]+" for p in parts)
        return [re.compile(text)]
    raise AssertionError(f"an action the test cannot read: {ast.unparse(action)}")


def test_every_recorded_action_code_is_listed_and_has_words_in_both_languages() -> None:
    """Issue 21 item 3: a code recorded anywhere in server/ is in the registry (a literal exactly, one made from data
    by at least one of its expansions), and every code of the registry has a label in zh and en."""
    codes = audit_codes.action_codes()
    calls = _record_calls()
    assert len(calls) > 90, "the scan finds the audit.record calls"
    for where, _, action, constants in calls:
        for pattern in _patterns(action, constants):
            assert any(pattern.fullmatch(c) for c in codes), f"{where}: {pattern.pattern} is not in audit_codes"
    assert set(codes.values()) <= set(audit_codes.AREAS)
    for lang in LANGUAGES:
        words = catalogue(lang)
        missing = [c for c in codes if f"audit.action.{c}" not in words]
        assert not missing, (lang, missing)
        assert not [s for s in audit_codes.states() if f"audit.state.{s}" not in words], lang
        assert all(f"audit.area.{a}" in words for a in audit_codes.AREAS), lang
        details = {k.arg for _, call, _, _ in calls for k in call.keywords if k.arg} - {"estate_id", "when"}
        assert not [k for k in details if f"audit.field.{k}" not in words], lang
