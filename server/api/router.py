"""The one place routers are mounted: every router of the device API under `/api/v1`, and the console's under
`/console`. A new area adds its router here."""

from __future__ import annotations

from fastapi import FastAPI

from server.api import cabinet, gate, gate_paper, gate_terminal, kiosk, passes, routes, service, slips
from server.console import (
    admin_pages,
    archive_pages,
    dashboard_pages,
    developer_repair_pages,
    duty_log_pages,
    duty_roster_pages,
    gate_log_pages,
    key_intake_pages,
    key_loan_pages,
    key_pages,
    move_in_fee_pages,
    move_in_pages,
    move_in_scan_pages,
    reconciliation_pages,
    registry_pages,
    renovation_pages,
    report_pages,
    resident_pages,
    service_answer_pages,
    service_board_pages,
    service_call_pages,
    service_cleaning_pages,
    service_feedback_pages,
    service_price_pages,
    service_repair_pages,
    service_repair_register_pages,
    slip_pages,
    slip_print_pages,
    vacancy_pages,
)
from server.console import routes as console

API_PREFIX = "/api/v1"
DEVICE_API = (gate, slips, kiosk, gate_terminal, gate_paper, cabinet, service, routes, passes)
# in the order their paths must be tried: a fixed path (`/slips/reconciliation`) before a pattern (`/slips/{id}`)
CONSOLE = (
    registry_pages,
    resident_pages,
    admin_pages,
    reconciliation_pages,
    gate_log_pages,
    slip_pages,
    slip_print_pages,
    key_pages,
    key_loan_pages,
    key_intake_pages,
    service_price_pages,
    service_repair_register_pages,  # fixed paths (/service/repairs/handover) before the order's pattern
    service_repair_pages,
    service_call_pages,
    service_cleaning_pages,
    service_feedback_pages,
    service_answer_pages,
    service_board_pages,
    duty_log_pages,
    duty_roster_pages,
    archive_pages,
    move_in_fee_pages,  # the fixed path /move-in/fees before a move-in's /move-in/{id}
    move_in_pages,
    move_in_scan_pages,
    developer_repair_pages,  # its fixed paths before vacancy_pages' patterns
    vacancy_pages,
    renovation_pages,
    report_pages,
    dashboard_pages,
    console,
)


def include_routers(app: FastAPI) -> None:
    for module in DEVICE_API:
        app.include_router(module.router, prefix=API_PREFIX)
    for module in CONSOLE:
        app.include_router(module.router, prefix="/console", include_in_schema=False)
