"""One builder per flow state: each returns the widgets of the main area for the flow as it is now."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from kivy.core.image import Image as CoreImage
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget

from gate.flows.gate_flow import REFUSE_REASONS, STOP_REASON, GateFlow
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
        box.add_widget(self.taps.button("stop", self.t("stop_button"), self.flow.stop_open, role="danger"))
        box.add_widget(Widget())
        return box

    def _stopping(self) -> Widget:
        """Goods with no slip (R-REL-6): the guard taps what is being carried out and logs it as stopped."""
        flow = self.flow
        box = Panel(spacing=10)
        box.add_widget(text(self.t("stop_title"), 44))
        box.add_widget(text(self.t("stop_hint"), 30, GREY))
        grid = BoxLayout(orientation="vertical", spacing=8)
        row = BoxLayout(spacing=8)
        for n, item in enumerate(flow.link.verifier.reference.catalogue.values()):
            if n and n % 3 == 0:
                grid.add_widget(row)
                row = BoxLayout(spacing=8)
            shown = item.name_en if self.catalogue.language == "en" and item.name_en else item.name
            picked = item.name in flow.stopped
            row.add_widget(
                self.taps.button(
                    f"stop_item:{item.code}",
                    ("✓ " if picked else "") + shown,
                    lambda name=item.name: flow.stop_pick(name),
                    role="primary" if picked else "neutral",
                )
            )
        grid.add_widget(row)
        box.add_widget(grid)
        zh = self.catalogue.texts["zh"]  # the register is kept in Chinese
        actions = BoxLayout(spacing=16, size_hint_y=None, height=110)
        actions.add_widget(
            self.taps.button(
                "stop_record",
                self.t("stop_record"),
                lambda: flow.stop_record(zh[STOP_REASON], zh["stop_unlisted"]),
                role="danger",
                height=110,
            )
        )
        actions.add_widget(self.taps.button("cancel", self.t("cancel"), flow.next, role="neutral", height=110))
        box.add_widget(actions)
        return box

    def _stopped(self) -> Widget:
        box = Panel(RED)
        box.add_widget(Widget())
        box.add_widget(text("✕ " + self.t("stopped_title"), 72, halign="center"))
        box.add_widget(text("、".join(self.flow.stopped) or self.t("stop_unlisted"), 44, halign="center"))
        if not self.flow.stop_logged:
            box.add_widget(text(self.t("queued_note"), 34, halign="center"))
        box.add_widget(Widget())
        box.add_widget(self.taps.button("next", self.t("next"), self.flow.next, role="neutral"))
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
        if verdict.since is not None:  # a worker pass on the synced list: since when, and why
            since = self.t("pass_invalid_since", when=self.when(verdict.since))
            box.add_widget(text(f"{since}  {verdict.note}".strip(), 40, halign="center"))
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
        if decision is None and self.flow.stop_logged is not None:
            return self._stopped()
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

    # --- workers' passes (R-REN-6) ----------------------------------------------------------------------------

    def _photo(self, data_url: str) -> Widget:
        """The worker's photo from the server, for the guard to compare with the face; a note when there is none
        (checked offline, or no photo was taken)."""
        head, _, body = data_url.partition(";base64,")
        try:
            raw = base64.b64decode(body, validate=True)
            texture = CoreImage(io.BytesIO(raw), ext="png" if head.endswith("png") else "jpg").texture
        except Exception:  # a bad base64 text (binascii.Error) or image: Kivy's loaders raise plain Exceptions
            return text(self.t("pass_no_photo"), 30, GREY, halign="center", size_hint_x=0.35)
        image = Image(texture=texture, fit_mode="contain", size_hint_x=0.35)
        self.taps.widgets["pass_photo"] = image
        return image

    def _worker_pass(self) -> Widget:
        flow = self.flow
        verdict = flow.pass_verdict
        assert verdict is not None and verdict.pass_ is not None
        item = verdict.pass_
        box = Panel(spacing=12)
        head = Panel(GREEN, orientation="horizontal", size_hint_y=None, height=420, padding=16, spacing=16)
        head.add_widget(self._photo(item.photo) if item.photo else text(self.t("pass_no_photo"), 30, halign="center",
                                                                        size_hint_x=0.35))  # fmt: skip
        facts = BoxLayout(orientation="vertical")
        facts.add_widget(text(self.t("pass_title"), 36))
        facts.add_widget(text(item.worker, 64))
        facts.add_widget(text(self.t("pass_company", company=item.company or "—"), 34))
        facts.add_widget(text(self.t("pass_unit", unit=item.unit), 40))
        facts.add_widget(text(self.t("pass_valid", start=item.valid_from.isoformat(), end=item.valid_until.isoformat()),
                              32))  # fmt: skip
        checked = self.t("checked_online" if verdict.online else "checked_offline")
        facts.add_widget(text(f"{item.number}   {checked}", 28))
        head.add_widget(facts)
        box.add_widget(head)
        box.add_widget(text(self.t("pass_hint"), 30, GREY))
        box.add_widget(Widget())
        row = BoxLayout(spacing=16, size_hint_y=None, height=110)
        row.add_widget(self.taps.button("pass_in", self.t("pass_in"), lambda: flow.pass_move("in"), font_size=48,
                                        height=110))  # fmt: skip
        row.add_widget(self.taps.button("pass_out", self.t("pass_out"), lambda: flow.pass_move("out"), font_size=48,
                                        height=110))  # fmt: skip
        row.add_widget(self.taps.button("cancel", self.t("cancel"), flow.next, role="neutral", height=110))
        box.add_widget(row)
        return box

    def _pass_logged(self) -> Widget:
        logged = self.flow.pass_logged
        assert logged is not None
        box = Panel(GREEN)
        box.add_widget(Widget())
        box.add_widget(text("✓ " + self.t(f"pass_logged_{logged.direction}"), 80, halign="center"))
        box.add_widget(text(logged.worker, 56, halign="center"))
        box.add_widget(text(f"{logged.number} · {self.when(logged.at)}", 36, halign="center"))
        if logged.queued:
            box.add_widget(text(self.t("queued_note"), 34, halign="center"))
        box.add_widget(Widget())
        box.add_widget(self.taps.button("next", self.t("next"), self.flow.next, role="neutral"))
        return box
