"""Every action the audit trail records, and the area of the console each belongs to: the audit log shows actions
as words (console locales `audit.action.<code>`) and groups its action filter by area.

Codes are written where they are recorded (`audit.record(session, actor, "slip.issue", …)`); those made from data
(a process's steps, an alarm's kind, a cabinet's event) are expanded here from that same data, so a new step or kind
is listed without being written twice. `tests/server/test_audit_codes.py` scans the source for every recorded code
and fails on one missing here or missing a label.
"""

from __future__ import annotations

from functools import cache

from server.contract.cabinet import ALERTS
from server.db.models import AlarmKind
from server.db.models.dutylog import CheckKind
from server.domain.archive.processes import DESTRUCTION, LOAN
from server.domain.duty.log import LOG
from server.domain.duty.requests import DUTY_REQUEST
from server.domain.keys.duplication import DUPLICATION
from server.domain.keys.intake import INTAKE
from server.domain.keys.loans import KEY_LOAN
from server.domain.lifecycle.processes import DEVELOPER_REPAIR, MOVE_IN, TAKEOVER
from server.domain.renovation.passes import DIRECTIONS
from server.domain.renovation.process import RENOVATION
from server.domain.service.processes import CLEANING, FEEDBACK, REPAIR
from server.domain.workflow import Process

AREAS = ("registry", "admin", "slips", "keys", "service", "duty", "archive", "lifecycle", "renovation")

# What the cabinet's drivers report besides the alerts (`cabinet.<event>`, server.domain.cabinet).
CABINET_EVENTS = frozenset({"door_opened", "door_closed", "board_online", "key_removed", "key_returned"}) | ALERTS
# Facts about a repair order that move no state (server.domain.service.repairs._remark).
REPAIR_REMARKS = ("accept_quote", "price_dispute", "callback_failed", "call_again", "unreturned_reason")
PROCESSES: tuple[tuple[Process, str], ...] = (
    (REPAIR, "service"),
    (CLEANING, "service"),
    (FEEDBACK, "service"),
    (DUTY_REQUEST, "duty"),
    (LOG, "duty"),
    (INTAKE, "keys"),
    (KEY_LOAN, "keys"),
    (DUPLICATION, "keys"),
    (LOAN, "archive"),
    (DESTRUCTION, "archive"),
    (MOVE_IN, "lifecycle"),
    (TAKEOVER, "lifecycle"),
    (DEVELOPER_REPAIR, "lifecycle"),
    (RENOVATION, "renovation"),
)

_WRITTEN: dict[str, tuple[str, ...]] = {
    "registry": (
        "estate.create",
        "unit.create",
        "unit.arrears",
        "person.create",
        "person.update",
        "occupancy.create",
        "occupancy.update",
        "occupancy.end",
        "resident.credentials",
        "resident.unlock",
        "registry.import",
        "registry.import_undone",
    ),
    "admin": (
        "staff.create",
        "staff.activate",
        "staff.deactivate",
        "staff.password",
        "staff.sign_in",
        "device.enrol",
        "device.revoke",
        "device.token_issue",
        "calendar.set_day",
        "calendar.clear_day",
    ),
    "slips": (
        "slip.issue",
        "slip.print",
        "slip.reprint",
        "slip.cancel",
        "slip.revoke",
        "slip.countersign",
        "slip.expire",
        "slip.request_refused",
        "slip.conflict",
        "slip.conflict_resolve",
        "slip.released",
        "slip.refused",
        "slip_key.create",
        "slip_key.rotate",
        "catalogue.save",
        "catalogue.active",
        "reconciliation.sign",
        "reconciliation.sign_again",
        "gate.refused_after_use",
        "gate.scan_rejected",
        "gate.stop",
        "gate.sync_rejected",
        "guard.credentials",
        "guard.sign_in",
        "kiosk.my_slips",
    ),
    "keys": (
        "key.home_slot",
        "key.layout",
        "key.put_back",
        "key.rectification_keep",
        "key.removed",
        "key_board.add",
        "key_loan.overdue",
        "key_set.register",
        "key_set.store",
        "key_unlock.authorise",
        "cabinet.sign_in",
        "cabinet_alert.acknowledge",
    ),
    "service": (
        "call_task.opened",
        "call_task.closed",
        "cleaning.environment_told",
        "cleaning.escalated",
        "cleaning.follow_up",
        "feedback.assistant_informed",
        "kiosk.my_requests",
        "kiosk.receipt_lookup",
        "phone_call.logged",
        "price_item.added",
        "price_item.edited",
        "price_item.restored",
        "price_item.retired",
        "service.escalated",
        "standard_answer.added",
        "standard_answer.updated",
    ),
    "duty": (
        "daysheet.defect",
        "daysheet.recorded",
        "daysheet.signed",
        "duty.absent",
        "duty.assign",
        "duty.late",
        "duty.move",
        "duty.relief_missing",
        "duty.remove",
        "duty.sign_in",
        "duty.sign_out",
        "handover.acknowledged",
        "handover.written",
        "log_entry.repeated",
        "repeat_report.written",
    ),
    "archive": (
        "archive_access.record",
        "archive_check.record",
        "archive_file.create",
        "archive_file.edit",
        "archive_file.retire",
    ),
    "lifecycle": (
        "vacancy.clean",
        "vacancy.patrol",
        "move_in.scan_added",
        "move_in.scan_deleted",
        "move_in_fee.added",
        "move_in_fee.edited",
        "move_in_fee.moved",
        "move_in_fee.retired",
        "move_in_fee.restored",
    ),
    "renovation": (
        "worker_pass.issue",
        "worker_pass.print",
        "worker_pass.withdraw",
        "worker_pass.conflict",
        "worker_pass.conflict_resolve",
    ),
}


@cache
def action_codes() -> dict[str, str]:
    """Every action code the server records, with its area."""
    codes = {code: area for area, written in _WRITTEN.items() for code in written}
    for flow, area in PROCESSES:
        codes.update({f"{flow.name}.{step}": area for step in flow.transitions})
    codes.update({f"{REPAIR.name}.{remark}": "service" for remark in REPAIR_REMARKS})
    codes.update({f"key_alarm.{kind.value}": "keys" for kind in AlarmKind})
    codes.update({f"cabinet.{event}": "keys" for event in CABINET_EVENTS})
    codes.update({f"log_check.{kind.value}": "duty" for kind in CheckKind})
    codes.update({f"worker_pass.{direction}": "renovation" for direction in DIRECTIONS})
    return codes


def by_area() -> dict[str, list[str]]:
    """The codes of each area, in the order of `AREAS`, each sorted."""
    grouped: dict[str, list[str]] = {area: [] for area in AREAS}
    for code, area in sorted(action_codes().items()):
        grouped[area].append(code)
    return grouped


def states() -> frozenset[str]:
    """Every state a process's record can be in: the values of an entry's `from_state` and `to_state`."""
    return frozenset(state.value for flow, _ in PROCESSES for state in flow.states)
