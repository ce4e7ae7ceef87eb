"""Audit entries as a person reads them (issue 21, item 3): the action in words, the record and the details as
labelled fields in the reader's language, known values translated, times in the estate's zone. No raw code, no
JSON and no UTC time reaches the page: a key or code with no label yet is shown humanised."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.console.i18n import catalogue
from server.console.registry_pages import yuan
from server.db.models import AuditEntry, Estate
from server.domain import audit_codes, clock

_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
_STATES = ("from_state", "to_state", "state")
_HIDDEN = frozenset({"estate_id"})  # the estate is the page's own
_OTHER_LANGUAGE = {"zh": "message_en", "en": "message"}  # an alarm's message is kept in both languages


@dataclass(frozen=True)
class Field:
    label: str
    value: str


def humanise(key: str) -> str:
    """`door_held_open` → `Door held open`: how a code with no label yet is shown."""
    words = re.sub(r"[._]+", " ", key).strip()
    return words[:1].upper() + words[1:]


class Reader:
    """Renders entries for one reader: `lang`, the estate whose zone times are shown in, and the names of the staff
    and devices that appear as actors (`user:7:…`, `device:3:…`)."""

    def __init__(
        self,
        lang: str,
        estate: Estate | None,
        staff: dict[int, str] | None = None,
        devices: dict[int, str] | None = None,
    ) -> None:
        self.lang, self.estate = lang, estate
        self.words = catalogue(lang)
        self.staff, self.devices = staff or {}, devices or {}

    def _word(self, key: str, fallback: str) -> str:
        return self.words.get(key) or fallback

    def action(self, code: str) -> str:
        if f"audit.action.{code}" in self.words:
            return self.words[f"audit.action.{code}"]
        prefix, _, rest = code.partition(".")  # a cabinet event no driver sent before: its record's name and words
        return f"{self.entity_name(prefix if prefix != 'cabinet' else 'cabinet_slot')}: {humanise(rest or prefix)}"

    def area(self, code: str) -> str:
        return audit_codes.action_codes().get(code, "other")

    def entity_name(self, entity: str) -> str:
        return self._word(f"audit.entity.{entity}", humanise(entity))

    def record(self, entry: AuditEntry) -> str:
        name = self.entity_name(entry.entity)
        return f"{name} #{entry.entity_id}" if entry.entity_id else name

    def who(self, entry: AuditEntry) -> str:
        kind, _, rest = entry.actor.partition(":")
        number, _, name = rest.partition(":")
        if kind == "user" and number.isdigit():
            return self.staff.get(int(number), name)
        if kind == "device" and number.isdigit():
            return self.devices.get(int(number), name)
        return f"{self._word('audit.system', 'System')} · {rest}" if kind == "system" else entry.actor

    def time(self, at: datetime | None) -> str:
        return clock.local_text(self.estate, at, empty="—")

    def fields(self, entry: AuditEntry) -> list[Field]:
        try:
            detail = json.loads(entry.detail or "{}")
        except ValueError:
            return [Field(self._word("audit.detail", "Details"), entry.detail)]
        if not isinstance(detail, dict):
            return [Field(self._word("audit.detail", "Details"), self.value("", detail))]
        hidden = set(_HIDDEN)
        if self.lang == "zh" or "message_en" in detail:  # the message in the reader's language only
            hidden.add(_OTHER_LANGUAGE[self.lang])
        return [
            Field(self.label(key), self.value(key, value))
            for key, value in detail.items()
            if key not in hidden and value not in (None, "", [], {})
        ]

    def label(self, key: str) -> str:
        return self._word(f"audit.field.{key}", humanise(key))

    def value(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return self._word("audit.yes" if value else "audit.no", str(value))
        if isinstance(value, list):
            return ", ".join(self.value(key, v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{self.label(k)}: {self.value(k, v)}" for k, v in value.items() if v not in (None, ""))
        if isinstance(value, int) and key.endswith("_fen"):
            return yuan(value)
        text = str(value)
        if key in _STATES and f"audit.state.{text}" in self.words:
            return self.words[f"audit.state.{text}"]
        if key == "alert_action":  # the cabinet event an acknowledgement answers, in words
            return self.action(text)
        if key == "role" and f"role.{text}" in self.words:
            return self.words[f"role.{text}"]
        if f"audit.value.{key}.{text}" in self.words:
            return self.words[f"audit.value.{key}.{text}"]
        if _MOMENT.match(text):
            return self._moment(text)
        return text

    def _moment(self, text: str) -> str:
        """A time written into a detail (stored in UTC, or with its offset) as the estate's wall clock."""
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        return self.time(at if at.tzinfo else at.replace(tzinfo=UTC))
