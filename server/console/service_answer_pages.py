"""The library of standard answers in the console (R-FB-2): everyone at the desk reads it to answer the same day;
the CS admin and the supervisor add, change and retire answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.pages import form_action
from server.console.registry_pages import flash_key, view
from server.contract.fields import Text
from server.domain.permissions import Perm
from server.domain.service import feedback
from server.web.deps import Console, DbSession, Now, require
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.service_view)]
Editor = Annotated[Console, require(Perm.service_catalogue)]

BASE = "/console/service/answers"
DONE = frozenset({"answer_added", "answer_saved"})
Topic = Annotated[Text, Form(max_length=60)]
Question = Annotated[Text, Form(max_length=200)]
Answer = Annotated[Text, Form(max_length=1000)]


def _page(
    request: Request, db: Session, console: Console, *, q: str = "", status: int = 200, **context: Any
) -> HTMLResponse:
    rows = feedback.answers(db, console.require_estate(), q=q)
    return view(
        request, console, "service/answers/list.html", status=status, rows=rows, q=q,
        can_edit=console.can(Perm.service_catalogue), **context,
    )  # fmt: skip


@router.get("/service/answers")
def answers(
    request: Request, console: Viewer, db: DbSession, q: Annotated[Text, Query(max_length=60)] = "", done: Text = ""
) -> Response:
    return _page(request, db, console, q=q, flash=flash_key(done, DONE))


@router.post("/service/answers")
def add_answer(
    request: Request, console: Editor, db: DbSession, now: Now, topic: Topic = "", question: Question = "",
    answer: Answer = "",
) -> Response:  # fmt: skip
    draft = feedback.AnswerDraft(topic, question, answer)

    def save() -> Response:
        feedback.add_answer(db, console.actor, console.require_estate(), draft, now)
        return RedirectResponse(f"{BASE}?done=answer_added", status_code=303)

    def again(status: int, error: str) -> Response:
        return _page(request, db, console, status=status, error=error, v=draft)

    return form_action(request, db, save, again)


@router.post("/service/answers/{answer_id}")
def save_answer(
    request: Request, console: Editor, db: DbSession, now: Now, answer_id: RowId, topic: Topic = "",
    question: Question = "", answer: Answer = "", active: Annotated[bool, Form()] = False,
) -> Response:  # fmt: skip
    """Change an answer, or retire it (unticked `active`): forms answered with it keep it."""
    row = feedback.get_answer(db, console.require_estate(), answer_id)

    def save() -> Response:
        feedback.update_answer(db, console.actor, row, feedback.AnswerDraft(topic, question, answer, active), now)
        return RedirectResponse(f"{BASE}?done=answer_saved", status_code=303)

    def again(status: int, error: str) -> Response:
        return _page(request, db, console, status=status, error=error, failed=answer_id)

    return form_action(request, db, save, again)
