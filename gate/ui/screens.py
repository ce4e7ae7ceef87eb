"""One builder per flow state: each returns the widgets of the main area for the flow as it is now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from gate.flows.gate_flow import REFUSE_REASONS, GateFlow
from gate.flows.verdict import ItemLine, Rejection, Verdict, rejection
from gate.ui.widgets import ALERT, AMBER, GREEN, GREY, RED, SLATE, Panel, Taps, text
from terminal.i18n import Catalogue
from terminal.widgets import Keypad

STATUS_COLOURS = {"match": GREEN, "short": RED, "extra": RED, "unchecked": SLATE}


class Screens:
    def __init__(self, flow: GateFlow, catalogue: Catalogue, zone: ZoneInfo, taps: Taps) -> None:
        self.flow, self.t, self.zone, self.taps = flow, catalogue.t, zone, taps
        self.catalogue = catalogue

    def item(self, line: ItemLine) -> str:
        return line.label(self.catalogue.language)

    def when(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%m-%d %H:%M")

    def build(self) -> Widget:
        builder: Callable[[], Widget] = getattr(self, f"_{self.flow.state}")
        return builder()

    def _keypad(self, prefix: str, on_key: Callable[[str], None]) -> Keypad:
        keypad = Keypad(on_key)
        for key, button in keypad.buttons.items():
            self.taps.widgets[f"{prefix}:{key}"] = button
        return keypad

    # --- states ---------------------------------------------------------------------------------------------

    def _signed_out(self) -> Widget:
        flow = self.flow
        box = Panel()
        box.add_widget(text(self.t("signin_title"), 56, halign="center"))
        box.add_widget(text(self.t("signin_hint"), 32, GREY, halign="center"))
        box.add_widget(text("●  " * len(flow.signin.state.digits) or "—", 56, halign="center"))
        error = flow.signin.state.error
        box.add_widget(text(self.t(f"err_{error}") if error else "", 34, ALERT, lines=2, halign="center"))
        box.add_widget(self._keypad("pin", flow.signin_key))
        box.add_widget(self.taps.button("signin", self.t("signin_button"), flow.signin_submit))
        box.add_widget(Widget())
        return box

    def _ready(self) -> Widget:
        box = Panel()
        box.add_widget(Widget())
        box.add_widget(text(self.t("ready_title"), 60, halign="center"))
        box.add_widget(text(self.t("ready_hint"), 32, GREY, halign="center"))
        box.add_widget(self.taps.button("manual", self.t("manual_button"), self.flow.manual_open, role="neutral"))
        box.add_widget(Widget())
        return box

    def _manual(self) -> Widget:
        flow = self.flow
        box = Panel()
        box.add_widget(text(self.t("manual_title"), 52, halign="center"))
        box.add_widget(text(self.t("manual_hint"), 30, GREY, halign="center"))
        box.add_widget(text(flow.manual_digits or "—", 64, halign="center"))
        box.add_widget(text(flow.manual_number() or "", 36, GREY, halign="center"))
        box.add_widget(self._keypad("manual", flow.manual_key))
        row = BoxLayout(spacing=16, size_hint_y=None, height=96)
        row.add_widget(self.taps.button("check", self.t("check_button"), flow.manual_submit))
        row.add_widget(self.taps.button("cancel", self.t("cancel"), flow.next, role="neutral"))
        box.add_widget(row)
        box.add_widget(Widget())
        return box

    def reason(self, verdict: Verdict) -> str:
        code = verdict.code or ""
        return self.t(f"code_{code}") if rejection(code) is not None else self.t("code_other", code=code)

    def _rejected(self) -> Widget:
        verdict = self.flow.verdict
        assert verdict is not None
        box = Panel(RED)
        box.add_widget(Widget())
        box.add_widget(text("✕ " + self.t("rejected_title"), 72, halign="center"))
        box.add_widget(text(self.reason(verdict), 60, halign="center"))
        if verdict.code == Rejection.ALREADY_RELEASED:
            detail = (
                self.t("released_when", when=self.when(verdict.released_at), gate=verdict.released_gate or "?")
                if verdict.released_at
                else self.t("released_unknown")
            )
            box.add_widget(text(detail, 44, halign="center"))
        box.add_widget(text(self.t("checked_online" if verdict.online else "checked_offline"), 28, halign="center"))
        box.add_widget(Widget())
        box.add_widget(self.taps.button("next", self.t("next"), self.flow.next, role="neutral"))
        return box

    def _checklist(self) -> Widget:
        flow = self.flow
        verdict, checklist = flow.verdict, flow.checklist
        assert verdict is not None and verdict.slip is not None and checklist is not None
        slip = verdict.slip
        box = Panel(spacing=12)
        head = Panel(GREEN, size_hint_y=None, height=220, padding=16, spacing=4)
        head.add_widget(text(self.t("slip_header", number=slip.number, unit=slip.unit), 40))
        head.add_widget(text(self.t("applicant", name=slip.applicant or "—"), 34))
        checked = self.t("checked_online" if verdict.online else "checked_offline")
        head.add_widget(text(f"{self.t('valid_until', when=self.when(slip.valid_until))}   {checked}", 30))
        box.add_widget(head)
        box.add_widget(text(self.t("checklist_hint"), 30, GREY))
        for line in slip.lines:
            status = checklist.status(line.line)
            row = Panel(STATUS_COLOURS[status], orientation="horizontal", size_hint_y=None, height=120, padding=12)
            names = BoxLayout(orientation="vertical")
            names.add_widget(text(f"{line.line}. {self.item(line)}", 40))
            counted = checklist.counted.get(line.line)
            count_text = self.t("counted", n=counted) if counted is not None else self.t("not_counted")
            names.add_widget(text(f"{self.t('on_slip', n=line.quantity)}   {count_text}", 30))
            row.add_widget(names)
            row.add_widget(text(self.t(f"status_{status}"), 40, size_hint_x=0.35, halign="center"))
            row.add_widget(
                self.taps.button(
                    f"match:{line.line}",
                    "✓ " + self.t("match_button"),
                    lambda n=line.line: flow.tap_match(n),
                    size_hint_x=0.45,
                )
            )
            row.add_widget(
                self.taps.button(
                    f"count:{line.line}",
                    self.t("count_button"),
                    lambda n=line.line: flow.count_open(n),
                    role="neutral",
                    size_hint_x=0.35,
                )
            )
            box.add_widget(row)
        if flow.counting is not None:
            name = next(self.item(i) for i in slip.lines if i.line == flow.counting)
            box.add_widget(text(self.t("count_title", name=name) + f"   {flow.count_digits or '—'}", 40, AMBER))
            box.add_widget(self._keypad("count", flow.count_key))
            box.add_widget(self.taps.button("count_ok", self.t("ok"), flow.count_done))
        box.add_widget(Widget())
        row = BoxLayout(spacing=16, size_hint_y=None, height=110)
        row.add_widget(
            self.taps.button(
                "release",
                self.t("release_button"),
                flow.release,
                enabled=checklist.can_release,
                font_size=48,
                height=110,
            )
        )
        row.add_widget(
            self.taps.button(
                "refuse",
                self.t("refuse_button"),
                flow.refuse_open,
                role="danger",
                enabled=checklist.can_refuse,
                font_size=48,
                height=110,
            )
        )
        row.add_widget(self.taps.button("cancel", self.t("cancel"), flow.next, role="neutral", height=110))
        box.add_widget(row)
        return box

    def _refusing(self) -> Widget:
        flow = self.flow
        box = Panel()
        box.add_widget(text(self.t("refuse_title"), 44))
        for line in self.differences():
            box.add_widget(text(line, 36, ALERT))
        for key in REFUSE_REASONS:
            zh_reason = self.catalogue.texts["zh"][key]  # the register is kept in Chinese
            box.add_widget(
                self.taps.button(f"reason:{key}", self.t(key), lambda r=zh_reason: flow.refuse(r), role="danger")
            )
        box.add_widget(self.taps.button("cancel", self.t("cancel"), flow.refuse_cancel, role="neutral"))
        box.add_widget(Widget())
        return box

    def differences(self) -> list[str]:
        """Each line whose count differs from the slip: what the slip says and what was counted."""
        checklist = self.flow.checklist
        return [
            f"{self.item(item)}: {self.t('on_slip', n=item.quantity)} / {self.t('counted', n=counted)}"
            for item, counted in (checklist.differences if checklist is not None else [])
        ]

    def refusal_reason(self, reason: str) -> str:
        """The guard's reason in the screen's language (it is recorded in Chinese, as the register is kept)."""
        zh = self.catalogue.texts["zh"]
        return next((self.t(key) for key in REFUSE_REASONS if zh[key] == reason), reason)

    def _done(self) -> Widget:
        decision = self.flow.decision
        assert decision is not None
        released = decision.outcome == "released"
        box = Panel(GREEN if released else RED)
        box.add_widget(Widget())
        box.add_widget(
            text(
                ("✓ " if released else "✕ ") + self.t("released_title" if released else "refused_title"),
                80,
                halign="center",
            )
        )
        box.add_widget(text(decision.number, 44, halign="center"))
        box.add_widget(
            text(self.t("decided_at", guard=decision.guard, when=self.when(decision.at)), 40, halign="center")
        )
        if not released:  # the reason again, for the guard to tell the resident (R-REL-6)
            box.add_widget(
                text(self.t("refused_because", reason=self.refusal_reason(decision.reason)), 40, halign="center")
            )
            for line in self.differences():
                box.add_widget(text(line, 36, halign="center"))
        if decision.queued:
            box.add_widget(text(self.t("queued_note"), 34, halign="center"))
        box.add_widget(Widget())
        box.add_widget(self.taps.button("next", self.t("next"), self.flow.next, role="neutral"))
        return box
