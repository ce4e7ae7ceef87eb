"""The service desk's processes as data (WORKFLOWS.md): each order type's states, who may take each step, what a
step needs and which clock it starts. Every change of an order or a form goes through `workflow.step` with one of
these, so each keeps its full history and its due time.

Repairs (R-REP): the front desk opens the order (or a resident at the kiosk), engineering assigns, books the visit
agreed with the resident, works, finishes with the resident's opinion and signature and the repairer's, or records
why it could not finish (R-REP-5); the engineering supervisor signs it off and it returns to the CS centre, by the
17:30 handover of its day (R-REP-9); the desk calls back between 19:00 and 22:00 (R-REP-8, 9), and files it.

Cleaning (R-CLN): booked, dispatched to environment for the booked time; nobody home → rebooked or cancelled by the
desk (R-CLN-3); finished with the resident's check and signature (R-CLN-5); returned before 22:00 the same day, or
by 10:00 the next (R-CLN-6); called back; filed at month end (R-CLN-8).

Feedback (R-FB): received the same day; a standard answer closes it the same day (R-FB-2); otherwise the form
within 1 working day, to the department the same day, its written reply within 1 working day (R-FB-3), the
supervisor signs, the resident is answered, followed up, filed (R-FB-4)."""

from __future__ import annotations

from datetime import time

from server.db.models import FeedbackState, OrderState
from server.domain.deadlines import DAY_END, BeforeMonthDay, CutOff, SameDayWindow, WorkingDays
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition, process

HANDOVER = time(17, 30)  # engineering hands over the day's completed orders (R-REP-9)
CALLBACK_WINDOW = SameDayWindow(time(19, 0), time(22, 0))  # R-REP-9
REPAIR_RETURN = CutOff(HANDOVER, HANDOVER)  # finished before 17:30: back that day; later: by the next day's handover
CLEANING_RETURN = CutOff(time(22, 0), time(10, 0))  # R-CLN-6
ONE_WORKING_DAY = WorkingDays(1)  # R-FB-3
SAME_DAY = SameDayWindow(time(0, 0), DAY_END)  # by the end of the day the step started
MONTHLY_SUMMARY = BeforeMonthDay(30)  # R-FB-5

S = OrderState
REPAIR = process(
    "repair",
    OrderState,
    Transition("open", frozenset({NEW}), S.new, Perm.service_intake, needs=("contact_name", "category")),
    Transition("request", frozenset({NEW}), S.new),  # a resident at the kiosk (a device: no staff permission)
    Transition(
        "assign", frozenset({S.new, S.reopened, S.unfinished}), S.assigned, Perm.repairs_work, needs=("assignee_id",)
    ),
    Transition(
        "schedule",
        frozenset({S.assigned, S.unfinished}),
        S.scheduled,
        Perm.repairs_work,
        needs=("appointment_start", "appointment_end"),
    ),
    Transition("start", frozenset({S.scheduled}), S.in_progress, Perm.repairs_work),
    Transition(
        "unfinished",
        frozenset({S.scheduled, S.in_progress}),
        S.unfinished,
        Perm.repairs_work,
        needs=("unfinished_reason",),
    ),
    Transition(
        "finish",
        frozenset({S.in_progress}),
        S.done,
        Perm.repairs_work,
        needs=("resident_opinion", "resident_signature", "repairer_signed_by"),
        starts=REPAIR_RETURN,
    ),
    Transition(
        "return",
        frozenset({S.done}),
        S.returned,
        Perm.repairs_work,
        needs=("supervisor_signed_by_id",),
        starts=CALLBACK_WINDOW,
    ),
    Transition("call_back", frozenset({S.returned}), S.called_back, Perm.service_callbacks),
    Transition("reopen", frozenset({S.returned, S.called_back}), S.reopened, Perm.service_supervise),
    Transition("file", frozenset({S.called_back}), S.filed, Perm.service_file),
    Transition("cancel", frozenset({S.new, S.assigned, S.scheduled}), S.cancelled, Perm.service_intake),
    Transition("withdraw", frozenset({S.new}), S.cancelled),  # the resident at the kiosk, before it is assigned
)

CLEANING = process(
    "cleaning",
    OrderState,
    Transition("open", frozenset({NEW}), S.new, Perm.service_intake, needs=("contact_name", "category")),
    Transition("request", frozenset({NEW}), S.new),
    Transition(
        "dispatch",
        frozenset({S.new}),
        S.dispatched,
        Perm.service_intake,
        needs=("appointment_start", "appointment_end"),
    ),
    # R-CLN-4: a request beyond the booking, recorded at the desk or by the cleaner on site (the state stays)
    Transition("out_of_scope", frozenset({S.new}), S.new, Perm.service_intake, needs=("out_of_scope",)),
    Transition(
        "out_of_scope_on_site", frozenset({S.dispatched}), S.dispatched, Perm.cleaning_work, needs=("out_of_scope",)
    ),
    Transition("nobody_home", frozenset({S.dispatched}), S.nobody_home, Perm.cleaning_work),
    Transition(
        "rebook",
        frozenset({S.nobody_home}),
        S.dispatched,
        Perm.service_callbacks,
        needs=("appointment_start", "appointment_end"),
    ),
    Transition(
        "finish",
        frozenset({S.dispatched}),
        S.done,
        Perm.cleaning_work,
        needs=("resident_opinion", "resident_signature", "worker_name"),
        starts=CLEANING_RETURN,
    ),
    Transition("return", frozenset({S.done}), S.returned, Perm.service_intake),
    Transition("call_back", frozenset({S.returned}), S.called_back, Perm.service_callbacks),
    Transition("file", frozenset({S.returned, S.called_back}), S.filed, Perm.service_file),
    Transition("cancel", frozenset({S.new, S.dispatched, S.nobody_home}), S.cancelled, Perm.service_intake),
    Transition("withdraw", frozenset({S.new}), S.cancelled),
)

F = FeedbackState
FEEDBACK = process(
    "feedback",
    FeedbackState,
    Transition("receive", frozenset({NEW}), F.received, Perm.service_intake, starts=ONE_WORKING_DAY),
    Transition("submit", frozenset({NEW}), F.received, starts=ONE_WORKING_DAY),  # from the kiosk
    Transition(
        "answer_standard",
        frozenset({F.received}),
        F.answered,
        Perm.service_intake,
        needs=("answer_to_resident",),
    ),
    # the form is passed to the department the same day it is filled (R-FB-3)
    Transition("form", frozenset({F.received}), F.formed, Perm.service_intake, needs=("details",), starts=SAME_DAY),
    Transition(
        "refer", frozenset({F.formed}), F.referred, Perm.service_intake, needs=("department",), starts=ONE_WORKING_DAY
    ),
    Transition("reply", frozenset({F.referred}), F.replied, Perm.feedback_reply, needs=("reply",)),
    Transition("sign", frozenset({F.replied}), F.signed, Perm.service_supervise),
    Transition("answer", frozenset({F.signed}), F.answered, Perm.service_callbacks, needs=("answer_to_resident",)),
    Transition("follow_up", frozenset({F.answered}), F.followed_up, Perm.service_intake, needs=("follow_up",)),
    Transition("file", frozenset({F.answered, F.followed_up}), F.filed, Perm.service_file),
)

PROCESSES = {"repair": REPAIR, "cleaning": CLEANING, "feedback": FEEDBACK}
