"""What each staff role may do. Routes and pages check a permission, never a role name."""

from __future__ import annotations

import enum

from server.db.models import Role


class Perm(enum.StrEnum):
    registry_view = "registry.view"
    registry_edit = "registry.edit"
    registry_import = "registry.import"
    residents_credentials = "residents.credentials"  # a resident's kiosk card and PIN, and unlocking the PIN
    arrears_edit = "arrears.edit"
    staff_manage = "staff.manage"
    devices_manage = "devices.manage"
    audit_view = "audit.view"
    slips_view = "slips.view"
    slips_issue = "slips.issue"
    slips_catalogue = "slips.catalogue"
    slips_conflicts = "slips.conflicts"
    reconcile_security = "slips.reconcile_security"
    reconcile_records = "slips.reconcile_records"
    keys_view = "keys.view"  # the register and its loans, and the cabinet's events and alarms (cabinet.event_log)
    keys_manage = "keys.manage"  # the register: intakes, tests, sets, slots (R-KEY-1…4, 7)
    keys_lend = "keys.lend"  # the key loan register (R-KEY-12)
    keys_approve_duplication = "keys.approve_duplication"  # the general manager's alone (R-KEY-11)
    # The service desk (R-REP, R-CLN, R-FB, R-PHONE)
    service_view = "service.view"  # orders, forms, registers and the boards
    service_intake = "service.intake"  # open orders and forms, log calls, dispatch cleaning, receive returned orders
    service_callbacks = "service.callbacks"  # the call queue: callbacks, rebooking, answering residents
    service_catalogue = "service.catalogue"  # the price list 《便民服务一览表》 and the standard answers
    service_supervise = "service.supervise"  # the CS supervisor: signs replies, takes escalations and failed callbacks
    service_file = "service.file"  # the CS admin: Wednesday totals, monthly filing (R-REP-10, 12, R-CLN-8, R-FB-5)
    repairs_work = "repairs.work"  # engineering: assign, schedule, do, sign off and return repair orders
    cleaning_work = "cleaning.work"  # environment: carry out cleaning orders, nobody-home notes
    feedback_reply = "feedback.reply"  # a department's written reply to a feedback form (R-FB-3)
    service_finance = "service.finance"  # finance's copy of paid orders (R-REP-12, R-CLN-8)
    # Front-desk operations (R-DUTY, R-ARC)
    duty_view = "duty.view"  # the roster 《排班表》, one's own shifts, leave and swap requests
    duty_manage = "duty.manage"  # the supervisor: makes the roster, approves leave and swaps, is alerted
    log_read = "log.read"  # the information log 《信息记录表》: internal and confidential (R-DUTY-3)
    log_write = "log.write"  # write log entries, hand over and acknowledge a shift (R-DUTY-3, 4)
    log_check = "log.check"  # the supervisor's daily check, the manager's weekly spot check (R-DUTY-6)
    daysheet_record = (
        "daysheet.record"  # the daily check sheet 《客户服务中心工作日检表》: temperatures, defects (R-DUTY-8)
    )
    daysheet_sign = "daysheet.sign"  # the manager's daily sign-off of the sheet (R-DUTY-8)
    archive_view = "archive.view"  # the archive room's files and loans (R-ARC)
    archive_lend = "archive.lend"  # lend and take back files (the CS admin and the desk hold the room's keys)
    archive_manage = "archive.manage"  # file register, quarterly completeness check, destruction requests
    archive_approve = "archive.approve"  # loans over a day or outside the company; destruction of expired files
    # The estate lifecycle: move-in (R-MOVE) and vacant units (R-VAC)
    movein_view = "movein.view"  # the move-in queue, records, forms and register
    movein_desk = "movein.desk"  # queue tickets, checks, signing, the pack, keys and filing
    movein_fees = "movein.fees"  # finance's fees by the fee list 《入伙费用一览表》
    movein_fee_list = "movein.fee_list"  # the estate's fee list itself: amounts, lines, their order
    movein_inspect = "movein.inspect"  # the unit inspection with the facilities form and the meter readings
    vacancy_view = "vacancy.view"  # vacant units, takeover forms, patrols, cleaning, the monthly statistics
    vacancy_inspect = "vacancy.inspect"  # engineering: takeover inspections and patrols (R-VAC-1, 2)
    vacancy_clean = "vacancy.clean"  # the environment department's cleaning rounds (R-VAC-3)
    # Renovation (R-REN)
    renovation_view = "renovation.view"  # applications, passes and the gate's log of workers
    renovation_desk = "renovation.desk"  # the CS centre: receive, notify, agreement, worker passes, extensions
    renovation_approve = "renovation.approve"  # engineering: approve within 3 working days, inspect and accept
    renovation_finance = "renovation.finance"  # finance: fees and deposit received, deposit refunded
    # The manager's monthly report pack of every area
    reports_view = "reports.view"  # the CS supervisor/manager and the general manager


_ALL = frozenset(Perm) - {Perm.keys_approve_duplication}
_VIEW = frozenset({Perm.registry_view})
# R-KEY-1…14: the CS admin (records_admin) keeps the keys, and with them sees the cabinet's events and alarms
# (keys.view, without the whole audit log); the desk and engineering register loans.
_KEYS = frozenset({Perm.keys_view, Perm.keys_manage, Perm.keys_lend})
_LEND = frozenset({Perm.keys_view, Perm.keys_lend})
# R-REL-4/7/8: the CS centre writes and files slips; security checks releases and reconciles with the CS admin.
_SLIPS = frozenset({Perm.slips_view, Perm.slips_issue})
# R-REP, R-CLN, R-FB: the front desk takes requests and calls residents back; the CS admin keeps the price list and
# files; the supervisor signs and takes what went wrong; departments do the work and write replies.
_DESK = frozenset({Perm.service_view, Perm.service_intake, Perm.service_callbacks})
_DEPARTMENT = frozenset({Perm.service_view, Perm.feedback_reply})
# R-DUTY: the desk is on duty, writes the log and hands over; the supervisor rosters, approves and checks; the log is
# read only by the desk, supervisors and managers. R-ARC: the CS admin and the desk hold the archive room's keys.
_ON_DUTY = frozenset({Perm.duty_view, Perm.log_read, Perm.log_write, Perm.daysheet_record})
_ARCHIVE = frozenset({Perm.archive_view, Perm.archive_lend})
# R-MOVE: the desk runs the move-in, finance takes the fees, the inspector walks the unit with the owner; the CS
# manager and finance keep the estate's fee list.
# R-VAC: engineering takes units over and patrols them, the environment department cleans them, the unit keeper
# (records admin) lends the keys for sales viewings through the key register.
_MOVE_IN_DESK = frozenset({Perm.movein_view, Perm.movein_desk, Perm.movein_inspect, Perm.vacancy_view})
_VACANT = frozenset({Perm.vacancy_view, Perm.vacancy_inspect, Perm.movein_view, Perm.movein_inspect})
# R-REN: the CS centre runs the renovation file and its passes; engineering approves and accepts; finance takes the
# fees and deposit and refunds it.
_RENOVATION = frozenset({Perm.renovation_view, Perm.renovation_desk})

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.admin: _ALL,  # everything but the general manager's approval of a key duplication (R-KEY-11)
    Role.general_manager: _VIEW
    | {Perm.audit_view, Perm.slips_view, Perm.keys_view, Perm.keys_approve_duplication, Perm.service_view}
    | {Perm.duty_view, Perm.log_read, Perm.log_check, Perm.reports_view},
    Role.cs_manager: _VIEW
    | _SLIPS
    | _KEYS
    | _DESK
    | {Perm.registry_edit, Perm.registry_import, Perm.devices_manage, Perm.audit_view, Perm.slips_catalogue}
    | {Perm.residents_credentials}
    | {Perm.service_catalogue, Perm.service_supervise, Perm.service_file}
    | _ON_DUTY
    | _ARCHIVE
    | {Perm.duty_manage, Perm.log_check, Perm.daysheet_sign, Perm.archive_approve}
    | _MOVE_IN_DESK
    | _VACANT
    | {Perm.movein_fees, Perm.movein_fee_list, Perm.vacancy_clean}
    | _RENOVATION
    | {Perm.reports_view},
    Role.records_admin: _VIEW
    | _SLIPS
    | _KEYS
    | _DESK
    | {Perm.registry_edit, Perm.registry_import, Perm.slips_catalogue, Perm.reconcile_records}
    | {Perm.residents_credentials}
    | {Perm.service_catalogue, Perm.service_file}
    | _ARCHIVE
    | {Perm.duty_view, Perm.archive_manage}
    | _MOVE_IN_DESK
    | _RENOVATION,
    Role.front_desk: _VIEW
    | _SLIPS
    | _LEND
    | _DESK
    | _ON_DUTY
    | _ARCHIVE
    | _MOVE_IN_DESK
    | _RENOVATION
    | {Perm.residents_credentials},
    Role.security_captain: _VIEW | _DEPARTMENT | {Perm.slips_view, Perm.slips_conflicts, Perm.reconcile_security},
    Role.gate_guard: frozenset(),
    Role.engineering: _VIEW
    | _LEND
    | _DEPARTMENT
    | {Perm.repairs_work}
    | _VACANT
    | {Perm.renovation_view, Perm.renovation_approve},
    Role.environment: _VIEW | _DEPARTMENT | {Perm.cleaning_work, Perm.vacancy_view, Perm.vacancy_clean},
    # Finance sets arrears balances, which R-REL-5 reads before a tenant's slip is issued, and bills paid orders.
    Role.finance: _VIEW
    | _DEPARTMENT
    | {Perm.arrears_edit, Perm.service_finance}
    | {Perm.movein_view, Perm.movein_fees, Perm.movein_fee_list}
    | {Perm.renovation_view, Perm.renovation_finance},
}


def allowed(role: Role, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS[role]
