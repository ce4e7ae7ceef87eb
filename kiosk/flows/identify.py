"""The kiosk's state machine, part two: who is asking (resident card, or unit and PIN)."""

from __future__ import annotations

from typing import Any

from kiosk.flows import faults
from kiosk.flows.base import (
    CARD_CHARS,
    MAX_KIOSK_PIN_TRIES,
    FlowBase,
)
from kiosk.flows.state import Message, Screen, Service
from server.contract.client import ApiError
from server.contract.schemas import KioskIdentify, KioskResidentUnit, MySlipsRequest, ResidentIdentity


class IdentifySteps(FlowBase):
    """Who is asking: a resident card typed in by the reader, or unit and PIN on the keypad."""

    # --- identify ---------------------------------------------------------------------------------------------------

    def identify_mode(self, mode: str) -> None:
        if self._touch() and mode in ("card", "pin"):
            self.session.identify.mode = mode
            self._show(Screen.IDENTIFY)

    def card_key(self, char: str) -> None:
        """A character typed by the card reader (it acts as a keyboard)."""
        self.last_touch = self.monotonic()
        if self.state.screen is Screen.IDENTIFY and char in CARD_CHARS and len(self.session.identify.card) < 40:
            self.session.identify.card += char

    def card_enter(self) -> None:
        """The reader's Enter after the card number: identify by card."""
        if not self._touch() or self.state.screen is not Screen.IDENTIFY:
            return
        card, self.session.identify.card = self.session.identify.card, ""
        if card:
            self._identify(KioskIdentify(card=card), card=card, pin=None)

    def focus(self, field: str) -> None:
        if self._touch() and field in ("unit", "pin"):
            self.session.identify.field = field
            self._changed()

    def keypad(self, key: str) -> None:
        """A key of the on-screen keypad, typed into the unit or the PIN box."""
        if not self._touch():
            return
        entry = self.session.identify
        value = entry.unit if entry.field == "unit" else entry.pin
        if key == "back":
            value = value[:-1]
        elif key == "clear":
            value = ""
        else:
            unit_key = key.isdigit() or key in self.unit_keys()
            fits = unit_key and len(value) < 16 if entry.field == "unit" else key.isdigit() and len(value) < 8
            value += key if fits else ""
        if entry.field == "unit":
            entry.unit = value
        else:
            entry.pin = value
        self.state.error = None
        self._changed()

    def unit_keys(self) -> list[str]:
        """The unit keypad's keys besides the digits: the dash and the letters the estate's unit codes use."""
        return ["-", *self.state.unit_letters]

    def submit_pin(self) -> None:
        if not self._touch():
            return
        entry = self.session.identify
        if len(entry.unit) < 3:
            entry.field = "unit"
            self.state.error = Message("identify.enter_unit")
        elif len(entry.pin) < 4:
            entry.field = "pin"
            self.state.error = Message("identify.enter_pin")
        else:
            self._identify(KioskIdentify(unit=entry.unit, pin=entry.pin), card=None, pin=entry.pin)
            return
        self._changed()

    def _identify(self, identity: KioskIdentify, *, card: str | None, pin: str | None) -> None:
        service = self.session.service
        unit_typed = identity.unit

        def work() -> tuple[Any, Any]:
            resident = self.api.identify(identity)
            if service is Service.MY_REQUESTS:
                request = MySlipsRequest(unit=unit_typed, identity=ResidentIdentity(card=card, pin=pin))
                return resident, self.api.my_slips(request)
            return resident, self._fetch_for(service)

        def apply(result: Any) -> None:
            entry = self.session.identify
            if isinstance(result, ApiError) and not faults.server_unreachable(result):
                self._identify_refused(result)
                return
            if isinstance(result, Exception):
                entry.pin = ""
                self._unexpected(result, retry="identify")
                return
            resident, extra = result
            entry.pin, entry.wrong_pins = "", 0
            self.session.card, self.session.pin = card, pin
            self.session.display_name, self.session.units = resident.display_name, resident.units
            if service is Service.MY_REQUESTS:
                self.session.my_slips = extra.slips
                self._show(Screen.MY_SLIPS)
                return
            self._identified(extra)
            units = [u for u in resident.units if unit_typed is None or u.unit == resident_unit(unit_typed, u)]
            if not units:
                self._refused(ApiError(403, "no_units", ""))
            elif len(units) == 1:
                self.pick_unit(units[0].unit)
            else:
                self.session.units = units
                self._show(Screen.UNIT_PICK)

        self._io(work, apply)

    def _fetch_for(self, service: Service | None) -> Any:
        """What the chosen service needs once the resident is known (item release: the item catalogue)."""
        return self.api.catalogue()

    def _identified(self, fetched: Any) -> None:
        self.session.catalogue = fetched.items

    def _first_screen(self) -> Screen:
        """The chosen service's first screen once the unit is known."""
        return Screen.ITEMS

    def _identify_refused(self, exc: ApiError) -> None:
        entry = self.session.identify
        entry.pin = ""
        if exc.code == "wrong_pin":
            entry.wrong_pins += 1
            if entry.wrong_pins >= MAX_KIOSK_PIN_TRIES:
                self._refused(ApiError(401, "too_many_pins", exc.message))
                return
            left = str(MAX_KIOSK_PIN_TRIES - entry.wrong_pins)
            self.state.error = Message("identify.wrong_pin", {"left": left})
        elif exc.code in ("unknown_unit", "bad_unit_code"):
            entry.field = "unit"
            self.state.error = Message("identify.unknown_unit")
        elif exc.code == "unknown_card":
            self.state.error = Message("identify.unknown_card")
        else:  # pin_locked, or a refusal of the resident (no current unit …)
            self._refused(exc)
            return
        self._changed()

    def pick_unit(self, unit: str) -> None:
        chosen = next((u for u in self.session.units if u.unit == unit), None)
        if chosen is None or not self._touch():
            return
        self.session.unit = chosen
        refusal = chosen.slip_refusal
        if self.session.service is Service.ITEM_RELEASE and refusal is not None:
            # R-REL-5 and the other rules, as the server judged them at identification: refused before picking.
            self._refused(ApiError(403, refusal.code, refusal.message, refusal.detail, message_en=refusal.message_en))
            return
        self._show(self._first_screen())


def resident_unit(typed: str, unit: KioskResidentUnit) -> str:
    """The unit as the server spells it when it matches what was typed (5-8b, 5－8B …), else what was typed."""
    normal = typed.strip().upper().replace(" ", "")
    return unit.unit if unit.unit.replace(" ", "") == normal else normal
