"""One builder per screen: each draws the flow's state with catalogue texts and wires touches to flow methods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.state import Message, Screen
from kiosk.ui.signature import sign
from terminal.i18n import Catalogue
from terminal.kivy_setup import FONT_NAME
from terminal.widgets import TOUCH, BigButton, Keypad, TextKeyboard

KEYBOARD_LABELS = ("prev", "next", "space", "back", "clear", "to_latin", "to_pinyin")
SCROLL_BAR = (0.30, 0.36, 0.42, 0.9)
SCROLL_BAR_WIDTH = 16
ROW_SPACING = 10


class Ui:
    """What a builder needs: the flow, the texts, a register of widgets by id (for the test driver), and the
    view's memory across redraws (where a list was scrolled to)."""

    def __init__(
        self,
        flow: KioskFlow,
        texts: Catalogue,
        register: Callable[[str, Widget], Widget],
        memory: dict[str, Any] | None = None,
    ) -> None:
        self.flow, self.texts, self.register = flow, texts, register
        self.memory = memory if memory is not None else {}

    def item_name(self, name: str, name_en: str) -> str:
        """An item's name in the screen's language (a free-text item has only the name it was given)."""
        return name_en or name if self.texts.language == "en" else name

    def t(self, key: str, **values: object) -> str:
        return self.texts.t(key, **values)

    def say(self, message: Message | None) -> str:
        if message is None:
            return ""
        known = self.texts.texts[self.texts.language]
        return self.t(message.key, **{k: self.t(v) if v in known else v for k, v in message.values.items()})

    def label(self, text: str, size: int = 40, **kwargs: object) -> Label:
        kwargs.setdefault("color", (0.1, 0.12, 0.15, 1))
        kwargs.setdefault("halign", "center")
        label = Label(text=text, font_name=FONT_NAME, font_size=size, valign="middle", **kwargs)
        label.bind(size=lambda w, s: setattr(w, "text_size", (s[0] - 20, None)))
        return label

    def button(self, wid: str, text: str, on_tap: Callable[[], None], role: str = "primary", **kw: object) -> BigButton:
        return self.register(wid, BigButton(text, role=role, on_tap=on_tap, **kw))  # type: ignore[return-value]

    def local(self, at: datetime | None) -> str:
        return at.astimezone(ZoneInfo(self.flow.state.timezone)).strftime("%m-%d %H:%M") if at else ""


def build(ui: Ui) -> Widget:
    return BUILDERS[ui.flow.state.screen](ui)


def _column(*children: Widget, spacing: int = 24) -> BoxLayout:
    box = BoxLayout(orientation="vertical", spacing=spacing, padding=(40, 24))
    for child in children:
        box.add_widget(child)
    return box


def _error(ui: Ui) -> Label:
    return ui.label(ui.say(ui.flow.state.error), 34, color=(0.7, 0.15, 0.12, 1), size_hint_y=None, height=70)


def home(ui: Ui) -> Widget:
    state, flow = ui.flow.state, ui.flow
    box = _column(ui.label(ui.t("home.welcome"), 56, size_hint_y=None, height=160))
    if state.offline:
        box.add_widget(ui.label(ui.t("home.offline"), 40))
        box.add_widget(ui.button("home.retry", ui.t("home.retry"), flow.refresh_services, "neutral"))
    for service in state.services:
        box.add_widget(
            ui.button(
                f"service.{service.value}",
                ui.t(f"service.{service.value}"),
                lambda s=service: flow.choose(s),
                height=TOUCH * 2,
                font_size=56,
            )
        )
        box.add_widget(ui.label(ui.t(f"service.{service.value}.hint"), 32, size_hint_y=None, height=60))
    box.add_widget(Widget())
    return box


def identify(ui: Ui) -> Widget:
    flow, entry = ui.flow, ui.flow.session.identify
    modes = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH)
    for mode in ("card", "pin"):
        role = "primary" if entry.mode == mode else "neutral"
        modes.add_widget(
            ui.button(f"identify.{mode}", ui.t(f"identify.mode_{mode}"), lambda m=mode: flow.identify_mode(m), role)
        )
    box = _column(ui.label(ui.t("identify.title"), 52, size_hint_y=None, height=110), modes)
    if entry.mode == "card":
        box.add_widget(ui.label(ui.t("identify.card_hint"), 48))
        box.add_widget(_error(ui))
        return box
    fields = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH)
    unit_text = f"{ui.t('identify.unit')}: {entry.unit}"
    pin_text = f"{ui.t('identify.pin')}: {'●' * len(entry.pin)}"
    fields.add_widget(
        ui.button(
            "identify.field.unit",
            unit_text,
            lambda: flow.focus("unit"),
            "primary" if entry.field == "unit" else "neutral",
        )
    )
    fields.add_widget(
        ui.button(
            "identify.field.pin", pin_text, lambda: flow.focus("pin"), "primary" if entry.field == "pin" else "neutral"
        )
    )
    box.add_widget(fields)
    box.add_widget(_error(ui))
    extra = tuple(flow.unit_keys()) if entry.field == "unit" else ()
    pad = Keypad(flow.keypad, labels={"clear": ui.t("keypad.clear")}, extra_keys=extra)
    for key, widget in pad.buttons.items():
        ui.register(f"key.{key}", widget)
    box.add_widget(pad)
    box.add_widget(ui.button("identify.submit", ui.t("identify.submit"), flow.submit_pin))
    box.add_widget(Widget())
    return box


def unit_pick(ui: Ui) -> Widget:
    box = _column(ui.label(ui.t("unit_pick.title"), 52, size_hint_y=None, height=110))
    for unit in ui.flow.session.units:
        text = f"{unit.unit}（{ui.t('unit.' + unit.kind)}）"
        box.add_widget(
            ui.button(f"unit.{unit.unit}", text, lambda u=unit.unit: ui.flow.pick_unit(u), height=TOUCH * 1.5)
        )
    box.add_widget(Widget())
    return box


def _stepper(ui: Ui, wid: str, name: str, quantity: int, minus: Callable[[], None], plus: Callable[[], None]) -> Widget:
    row = BoxLayout(spacing=12, size_hint_y=None, height=TOUCH)
    row.add_widget(ui.label(name, 40, halign="left"))
    row.add_widget(ui.button(f"{wid}.minus", "−", minus, "neutral", size_hint_x=None, width=TOUCH * 1.2, font_size=56))
    row.add_widget(ui.label(str(quantity), 44, size_hint_x=None, width=100))
    row.add_widget(ui.button(f"{wid}.plus", "+", plus, "primary", size_hint_x=None, width=TOUCH * 1.2, font_size=56))
    return row


def items(ui: Ui) -> Widget:
    flow, session = ui.flow, ui.flow.session
    draft = session.draft
    unit = session.unit.unit if session.unit else ""
    grid = GridLayout(cols=1, spacing=ROW_SPACING, size_hint_y=None, padding=(0, 0, SCROLL_BAR_WIDTH + 12, 0))
    grid.bind(minimum_height=grid.setter("height"))
    rows: dict[str, Widget] = {}
    for item in session.catalogue:
        quantity = draft.quantities.get(item.code, 0)
        rows[f"item.{item.code}"] = _stepper(
            ui,
            f"item.{item.code}",
            ui.item_name(item.name, item.name_en),
            quantity,
            lambda c=item.code: flow.remove(c),
            lambda c=item.code: flow.add(c),
        )
    for n, (name, quantity) in enumerate(draft.others):
        rows[f"other.{n}"] = _stepper(
            ui,
            f"other.{n}",
            name,
            quantity,
            lambda i=n: flow.change_other(i, -1),
            lambda i=n: flow.change_other(i, 1),
        )
    for row in rows.values():
        grid.add_widget(row)
    more = ui.label(ui.t("items.more"), 32, color=SCROLL_BAR, size_hint_y=None, height=50)
    ui.register("items.more", more)
    keep = list(rows).index(draft.last_line) if draft.last_line in rows else None
    scroll = _scroll(ui, "items", grid, keep, more)
    actions = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH)
    actions.add_widget(ui.button("items.other", ui.t("items.other"), flow.open_other, "neutral"))
    actions.add_widget(ui.button("items.review", ui.t("items.review"), flow.review))
    title = ui.label(ui.t("items.title", unit=unit), 44, size_hint_y=None, height=90)
    return _column(title, scroll, more, _error(ui), actions, spacing=12)


def _scroll(ui: Ui, name: str, content: Widget, keep: int | None, more: Label) -> ScrollView:
    """A list of rows that shows that it scrolls (a bar always drawn, and `more` while anything is below the
    fold), stays where the resident left it when the screen is drawn again, and shows row `keep` (the one just
    added or changed) whole."""
    scroll = ScrollView(
        do_scroll_x=False,
        bar_width=SCROLL_BAR_WIDTH,
        bar_color=SCROLL_BAR,
        bar_inactive_color=SCROLL_BAR,
        scroll_type=["bars", "content"],
        scroll_y=ui.memory.get(f"{name}.scroll_y", 1.0),
    )
    scroll.add_widget(content)
    ui.register(f"{name}.scroll", scroll)

    def update(*_args: object) -> None:
        ui.memory[f"{name}.scroll_y"] = scroll.scroll_y
        below = content.height > scroll.height and scroll.scroll_y > 0.001
        more.opacity = 1 if below else 0

    def fit(*_args: object) -> None:
        """Once the list and its window have their sizes: scroll just enough for row `keep` to show whole."""
        hidden = content.height - scroll.height
        if keep is not None and hidden > 0:
            top = keep * (TOUCH + ROW_SPACING)
            seen = (1 - scroll.scroll_y) * hidden  # how far down the window's top edge is
            seen = min(max(seen, top + TOUCH - scroll.height), top)
            scroll.scroll_y = min(1.0, max(0.0, 1 - seen / hidden))
        update()

    scroll.bind(scroll_y=update, height=fit)
    content.bind(height=fit)
    return scroll


def other(ui: Ui) -> Widget:
    """The other item's name, typed on the on-screen keyboard (the physical keyboard stays the card reader's)."""
    flow, composer = ui.flow, ui.flow.session.other
    if composer is None:
        return Widget()
    typed = composer.text + (f" [u]{composer.letters}[/u]" if composer.letters else "")
    field = ui.label(
        typed or ui.t("other.hint"),
        48 if typed else 34,
        markup=True,
        color=(0.1, 0.12, 0.15, 1) if typed else (0.45, 0.48, 0.52, 1),
        size_hint_y=None,
        height=TOUCH * 1.2,
    )
    ui.register("other.text", field)
    labels = {key: ui.t(f"kb.{key}") for key in KEYBOARD_LABELS}
    keyboard = TextKeyboard(composer, flow.other_key, flow.other_pick, labels)
    for key, widget in keyboard.buttons.items():
        ui.register(f"kb.{key}", widget)
    actions = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH)
    actions.add_widget(ui.button("nav.back", ui.t("nav.back"), flow.back, "neutral"))
    actions.add_widget(ui.button("other.add", ui.t("other.add"), flow.add_other))
    title = ui.label(ui.t("other.title"), 48, size_hint_y=None, height=100)
    return _column(title, field, _error(ui), keyboard, actions, Widget(), spacing=16)


def review(ui: Ui) -> Widget:
    flow, session = ui.flow, ui.flow.session
    names = {i.code: ui.item_name(i.name, i.name_en) for i in session.catalogue}
    lines = [f"{names.get(c, c)} × {q}" for c, q in session.draft.quantities.items()]
    lines += [f"{n} × {q}" for n, q in session.draft.others]
    box = _column(ui.label(ui.t("review.title"), 52, size_hint_y=None, height=110))
    box.add_widget(
        ui.label(ui.t("review.unit", unit=session.unit.unit if session.unit else ""), 40, size_hint_y=None, height=70)
    )
    box.add_widget(ui.label("\n".join(lines), 40))
    box.add_widget(ui.label(f"{ui.t('review.day')}: {flow.planned_date():%Y-%m-%d}", 40, size_hint_y=None, height=70))
    days = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH)
    for offset in range(3):
        role = "primary" if session.draft.day_offset == offset else "neutral"
        days.add_widget(ui.button(f"day.{offset}", ui.t(f"day.{offset}"), lambda o=offset: flow.set_day(o), role))
    box.add_widget(days)
    actions = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH * 1.5)
    actions.add_widget(ui.button("nav.back", ui.t("nav.back"), flow.back, "neutral"))
    actions.add_widget(ui.button("review.confirm", ui.t("review.confirm"), flow.confirm, font_size=48))
    box.add_widget(actions)
    return box


def outcome(ui: Ui) -> Widget:
    state = ui.flow.state
    title = {Screen.DONE: "done.title", Screen.REFUSED: "refused.title", Screen.FAULT: "fault.title"}[state.screen]
    colour = (0.04, 0.43, 0.31, 1) if state.screen is Screen.DONE else (0.7, 0.15, 0.12, 1)
    box = _column(ui.label(ui.t(title), 60, color=colour, size_hint_y=None, height=140))
    box.add_widget(ui.register("outcome.message", ui.label(ui.say(state.message), 44)))
    box.add_widget(ui.register("outcome.advice", ui.label(ui.say(state.advice), 40)))
    if state.screen is Screen.FAULT and state.retry:
        box.add_widget(ui.button("fault.retry", ui.t("fault.retry"), ui.flow.retry, "neutral"))
    box.add_widget(ui.button("outcome.home", ui.t("nav.home"), ui.flow.home, height=TOUCH * 1.5))
    return box


def my_slips(ui: Ui) -> Widget:
    flow = ui.flow
    grid = GridLayout(cols=1, spacing=14, size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))
    if not flow.session.my_slips:
        grid.add_widget(ui.label(ui.t("my.empty"), 44, size_hint_y=None, height=120))
    for slip in flow.session.my_slips:
        row = BoxLayout(spacing=12, size_hint_y=None, height=TOUCH * 1.6)
        when = ui.t("my.issued_at", at=ui.local(slip.issued_at))
        if slip.gate_at is not None:
            when += " · " + ui.t("my.gate_at", at=ui.local(slip.gate_at))
        goods = ui.t("list.separator").join(f"{ui.item_name(i.name, i.name_en)}×{i.quantity}" for i in slip.items)
        text = f"{slip.number}  [{ui.t('state.' + slip.state)}]\n{when}\n{ui.t('my.items', items=goods)}"
        row.add_widget(ui.register(f"my.{slip.number}", ui.label(text, 30, halign="left")))
        if slip.reprintable:
            row.add_widget(
                ui.button(
                    f"reprint.{slip.number}",
                    ui.t("my.reprint"),
                    lambda n=slip.number: flow.reprint(n),
                    size_hint_x=None,
                    width=220,
                )
            )
        grid.add_widget(row)
    scroll = ScrollView(do_scroll_x=False)
    scroll.add_widget(grid)
    orders = ui.button("orders.open", ui.t("my.orders"), flow.my_orders, "neutral", size_hint_y=None, height=TOUCH)
    return _column(ui.label(ui.t("my.title"), 52, size_hint_y=None, height=110), scroll, orders)


BUILDERS: dict[Screen, Callable[[Ui], Widget]] = {
    Screen.HOME: home,
    Screen.IDENTIFY: identify,
    Screen.UNIT_PICK: unit_pick,
    Screen.ITEMS: items,
    Screen.OTHER: other,
    Screen.REVIEW: review,
    Screen.SIGN: sign,
    Screen.DONE: outcome,
    Screen.REFUSED: outcome,
    Screen.FAULT: outcome,
    Screen.MY_SLIPS: my_slips,
}
