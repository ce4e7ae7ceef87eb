"""The feedback papers, declared once (server.console.registers): the feedback form 《客户意见处理单》 (R-FB-1…4) and
the monthly summary 《客户意见月度汇总》 (R-FB-5)."""

from __future__ import annotations

from datetime import datetime

from server.console.registers import Column, Form, Register
from server.db.models import Estate, FeedbackForm
from server.domain import clock

CATEGORY = {"suggestion": "建议", "complaint": "投诉", "praise": "表扬", "question": "咨询"}
CHANNEL = {"desk": "前台", "phone": "电话", "kiosk": "自助机", "email": "电子邮件", "department": "其他部门",
           "letter": "书面"}  # fmt: skip
DEPARTMENT = {"engineering": "工程部", "environment": "环境部", "security_captain": "治安队", "finance": "财务部",
              "-": "（未转部门）", "": "（未转部门）"}  # fmt: skip
TIMELINESS = {"on_time": "按时", "late": "逾期", "open": "办理中"}

FEEDBACK_FORM = Form(
    "feedback-form",
    "《客户意见处理单》",
    "Feedback form",
    fields=(
        Column("number", "编号", "Number"),
        Column("received_at", "受理时间", "Received"),
        Column("channel", "渠道", "Channel"),
        Column("category", "类别", "Category"),
        Column("contact", "住户", "Resident"),
        Column("unit", "房号", "Unit"),
        Column("subject", "意见内容", "Feedback", 60),
        Column("details", "详细情况", "Details", 60),
        Column("department", "责任部门", "Department"),
        Column("assistant_informed_at", "报主任助理", "Assistant informed"),
        Column("reply", "部门书面答复", "Department's reply", 60),
        Column("replied_by", "答复人", "Replied by"),
        Column("supervisor", "主管审核", "Supervisor"),
        Column("answer_to_resident", "答复住户", "Answer to the resident", 60),
        Column("follow_up", "跟踪结果", "Follow-up", 60),
        Column("filed_at", "归档时间", "Filed"),
    ),
    signatures=(("受理人", "Received by"), ("部门负责人", "Department head"), ("客服主管", "CS supervisor")),
)

SUMMARY = Register(
    "feedback-monthly-summary",
    "《客户意见月度汇总》",
    "Monthly feedback summary",
    (
        Column("number", "编号", "Number", 22),
        Column("received_at", "受理时间", "Received", 18),
        Column("category", "类别", "Category", 8),
        Column("channel", "渠道", "Channel", 10),
        Column("subject", "意见内容", "Feedback", 40),
        Column("department", "责任部门", "Department", 12),
        Column("timeliness", "时效", "Timeliness", 8),
    ),
    signatures=(("制表人", "Prepared by"), ("客服主管", "CS supervisor")),
)


def form_values(form: FeedbackForm, estate: Estate, supervisor: str) -> dict[str, object]:
    def local(at: datetime | None) -> str:
        return clock.local_text(estate, at)

    return {
        "number": form.number,
        "received_at": local(form.received_at),
        "channel": CHANNEL[form.channel.value],
        "category": CATEGORY[form.category.value],
        "contact": f"{form.contact_name} {form.contact_phone}".strip(),
        "unit": form.unit.code if form.unit else "",
        "subject": form.subject,
        "details": form.details,
        "department": DEPARTMENT.get(form.department, form.department),
        "assistant_informed_at": local(form.assistant_informed_at),
        "reply": form.reply,
        "replied_by": form.replied_by,
        "supervisor": supervisor,
        "answer_to_resident": form.answer_to_resident,
        "follow_up": form.follow_up,
        "filed_at": local(form.filed_at),
    }
