"""The kiosk as one state machine: home → identify → item release or my requests → printed slip.

Every touch is a method; every request to the server or the printer runs through the injected `runner` (the
Kivy layer runs it on a worker thread; tests run it inline), and its answer is applied only if the resident's
session is still the one that asked — after the idle reset nothing of theirs comes back on screen.
"""

from __future__ import annotations

from typing import Any

from devices.printing import PrintingError
from kiosk.flows import faults
from kiosk.flows.desk import DeskSteps
from kiosk.flows.release import ReleaseSteps
from kiosk.flows.state import Message, Screen
from server.contract.client import ApiError
from server.contract.schemas import MySlipsRequest, ResidentIdentity


class KioskFlow(DeskSteps, ReleaseSteps):
    """The whole kiosk (the service desk's steps in `desk`); this last part holds my requests and reprints."""

    # --- my requests ----------------------------------------------------------------------------------------------

    def reprint(self, number: str) -> None:
        """Print one's own unused slip again (the same token; the server logs the reprint)."""
        if not self._touch() or self.state.screen is not Screen.MY_SLIPS:
            return
        mine = next((s for s in self.session.my_slips if s.number == number and s.reprintable), None)
        if mine is None:
            return
        self._reprint(number, mine.unit)

    def _reprint(self, number: str, unit: str) -> None:
        # The server reprints only for the resident the slip was issued to, so the kiosk proves who asks again.
        proof = MySlipsRequest(unit=unit, identity=ResidentIdentity(card=self.session.card, pin=self.session.pin))

        def work() -> Any:
            try:
                self.printer.check()
            except PrintingError as exc:
                return exc
            return self._print(self.api.reprint(number, proof))

        def apply(result: Any) -> None:
            if isinstance(result, PrintingError):
                problem = faults.printer_problem(result)
                self._fault(Message("fault.printer_reprint", {"problem": problem}), Message("advice.front_desk"))
            elif isinstance(result, ApiError) and not faults.server_unreachable(result):
                self._refused(result)
            elif isinstance(result, Exception):
                self._unexpected(result, retry="")
            else:
                self._printed(result)

        self._io(work, apply)
