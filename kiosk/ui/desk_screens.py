"""The service desk's screens (repairs, cleaning, feedback, my orders, a scanned order): one builder per screen, as
in `screens`, drawing the flow's state with catalogue texts and wiring touches to the flow's methods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk import receipts
from kiosk.flows.desk_draft import CONTACT_BACK, PLACES, TOPICS
from kiosk.flows.state import DESK_SERVICES, Screen, Service
from kiosk.ui import screens
from kiosk.ui.screens import KEYBOARD_LABELS, Ui, _column, _error
from server.contract.service import ServiceItemOut, ServiceOrderOut
from terminal.widgets import TOUCH, TextKeyboard


def build(ui: Ui) -> Widget:
    """The screen's builder: the desk's own, or the kiosk's others."""
    state = ui.flow.state
    if state.screen is Screen.DONE and state.session.service in DESK_SERVICES:
        return done(ui)
    builder = DESK_BUILDERS.get(state.screen)
    return builder(ui) if builder else screens.build(ui)


def _title(ui: Ui, key: str, **values: object) -> Widget:
    return ui.label(ui.t(key, **values), 48, size_hint_y=None, height=110)


def _money(ui: Ui, item: ServiceItemOut) -> str:
    if not item.paid:
        return ui.t("desk.free")
    return ui.t("desk.price", price=receipts.yuan(item.price_fen).replace("￥", "¥"), unit=item.unit)


def _back_row(ui: Ui, *more: Widget) -> BoxLayout:
    row = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH)
    row.add_widget(ui.button("desk.back", ui.t("nav.back"), ui.flow.desk_back, "neutral"))
    for widget in more:
        row.add_widget(widget)
    return row


def _list(*rows: Widget, cols: int = 1) -> ScrollView:
    grid = GridLayout(cols=cols, spacing=14, size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))
    for row in rows:
        grid.add_widget(row)
    scroll = ScrollView(do_scroll_x=False)
    scroll.add_widget(grid)
    return scroll


def _choices(ui: Ui, choices: list[tuple[str, str, Callable[[], None]]], cols: int = 1) -> ScrollView:
    return _list(*(ui.button(wid, text, tap, height=TOUCH * 1.4) for wid, text, tap in choices), cols=cols)


def repair_category(ui: Ui) -> Widget:
    flow = ui.flow
    choices = [
        (f"repair.cat.{c.code}", ui.item_name(c.name, c.name_en), lambda code=c.code: flow.repair_category(code))
        for c in flow.desk.categories("repair")
    ]
    return _column(_title(ui, "repair.category_title"), _choices(ui, choices), spacing=16)


def repair_problem(ui: Ui) -> Widget:
    flow = ui.flow
    choices = [
        (
            f"repair.item.{i.code}",
            f"{ui.item_name(i.name, i.name_en)}  ·  {_money(ui, i)}",
            lambda code=i.code: flow.repair_problem(code),
        )
        for i in flow.desk.problems()
    ]
    return _column(_title(ui, "repair.problem_title"), _choices(ui, choices), _back_row(ui), spacing=16)


def repair_place(ui: Ui) -> Widget:
    flow = ui.flow
    choices = [(f"place.{p}", ui.t(f"place.{p}"), lambda code=p: flow.repair_place(code)) for p in PLACES]
    return _column(_title(ui, "repair.place_title"), _choices(ui, choices, cols=2), _back_row(ui), spacing=16)


def cleaning_service(ui: Ui) -> Widget:
    flow = ui.flow
    choices = [
        (
            f"cleaning.item.{i.code}",
            f"{ui.item_name(i.name, i.name_en)}  ·  {_money(ui, i)}",
            lambda code=i.code: flow.cleaning_service(code),
        )
        for i in flow.desk.cleaning_items()
    ]
    return _column(_title(ui, "cleaning.service_title"), _choices(ui, choices), spacing=16)


def slot(ui: Ui) -> Widget:
    flow = ui.flow
    rows: list[Widget] = []
    if not flow.desk.slots:
        rows.append(ui.label(ui.t("slot.none"), 40, size_hint_y=None, height=120))
    for day in flow.desk.slot_days():
        when = date.fromisoformat(day)
        rows.append(ui.label(ui.t("slot.day", day=f"{when:%m-%d}", weekday=ui.t(f"weekday.{when.weekday()}")), 36,
                             size_hint_y=None, height=60))  # fmt: skip
        line = BoxLayout(spacing=12, size_hint_y=None, height=TOUCH)
        for s in (s for s in flow.desk.slots if s.day.isoformat() == day):
            text = s.label if s.free > 0 else f"{s.label} {ui.t('slot.full_short')}"
            start = s.start.isoformat()
            line.add_widget(
                ui.button(
                    f"slot.{start}", text, lambda at=start: flow.pick_slot(at), "primary" if s.free else "neutral"
                )
            )
        rows.append(line)
    return _column(_title(ui, "slot.title"), _list(*rows), _error(ui), _back_row(ui), spacing=16)


def feedback_kind(ui: Ui) -> Widget:
    flow = ui.flow
    catalogue = flow.desk.catalogue
    choices = [
        (f"feedback.kind.{c.code}", ui.item_name(c.name, c.name_en), lambda code=c.code: flow.feedback_kind(code))
        for c in (catalogue.feedback if catalogue else [])
    ]
    return _column(_title(ui, "feedback.kind_title"), _choices(ui, choices), spacing=16)


def feedback_topic(ui: Ui) -> Widget:
    flow = ui.flow
    choices = [(f"topic.{t}", ui.t(f"topic.{t}"), lambda code=t: flow.feedback_topic(code)) for t in TOPICS]
    return _column(_title(ui, "feedback.topic_title"), _choices(ui, choices, cols=2), _back_row(ui), spacing=16)


def desk_text(ui: Ui) -> Widget:
    """Notes or the feedback's words on the on-screen keyboard (the physical keyboard stays the readers')."""
    flow, composer = ui.flow, ui.flow.desk.composer
    if composer is None:
        return Widget()
    typed = composer.text + (f" [u]{composer.letters}[/u]" if composer.letters else "")
    field = ui.label(
        typed or ui.t("text.hint"),
        40 if typed else 34,
        markup=True,
        color=(0.1, 0.12, 0.15, 1) if typed else (0.45, 0.48, 0.52, 1),
        size_hint_y=None,
        height=TOUCH * 2,
    )
    ui.register("text.field", field)
    labels = {key: ui.t(f"kb.{key}") for key in KEYBOARD_LABELS}
    keyboard = TextKeyboard(composer, flow.text_key, flow.text_pick, labels)
    for key, widget in keyboard.buttons.items():
        ui.register(f"kb.{key}", widget)
    done_button = ui.button("text.done", ui.t("text.done"), flow.text_done)
    title = "feedback.text_title" if flow.session.service is Service.FEEDBACK else "text.notes_title"
    return _column(_title(ui, title), field, _error(ui), keyboard, _back_row(ui, done_button), Widget(), spacing=16)


def feedback_contact(ui: Ui) -> Widget:
    flow = ui.flow
    choices = [(f"contact.{c}", ui.t(f"contact.{c}"), lambda code=c: flow.contact_back(code)) for c in CONTACT_BACK]
    return _column(_title(ui, "feedback.contact_title"), _choices(ui, choices), _back_row(ui), spacing=16)


def _summary(ui: Ui) -> list[str]:
    flow = ui.flow
    desk, service = flow.desk, flow.session.service
    unit = flow.session.unit.unit if flow.session.unit else ""
    lines = [ui.t("review.unit", unit=unit)]
    if service is Service.FEEDBACK:
        kind = (
            next((c for c in desk.catalogue.feedback if c.code == desk.feedback_kind), None) if desk.catalogue else None
        )
        lines.append(ui.t("desk.kind", kind=ui.item_name(kind.name, kind.name_en) if kind else ""))
        lines.append(ui.t("desk.topic", topic=ui.t(f"topic.{desk.topic}")))
        lines.append(ui.t("desk.contact", contact=ui.t(f"contact.{desk.contact_back}")))
    elif desk.item is not None:
        lines.append(ui.t("desk.item", item=ui.item_name(desk.item.name, desk.item.name_en)))
        if desk.place:
            lines.append(ui.t("desk.place", place=ui.t(f"place.{desk.place}")))
        if desk.slot is not None:
            lines.append(ui.t("desk.slot", day=f"{desk.slot.day:%Y-%m-%d}", time=desk.slot.label))
        lines.append(ui.t("desk.cost", cost=_money(ui, desk.item)))
        if desk.item.paid:
            lines.append(ui.t("desk.paid_after"))  # R-REP-3, R-CLN-5: no cash, priced from the list
    if desk.text:
        lines.append(ui.t("desk.text", text=desk.text))
    return lines


def desk_review(ui: Ui) -> Widget:
    flow = ui.flow
    box = _column(_title(ui, "desk.review_title"))
    box.add_widget(ui.register("desk.summary", ui.label("\n".join(_summary(ui)), 38)))
    if flow.session.service is not Service.FEEDBACK:
        box.add_widget(ui.button("review.notes", ui.t("desk.notes"), flow.open_text, "neutral"))
    confirm = ui.button("desk.confirm", ui.t("review.confirm"), flow.desk_confirm, font_size=48)
    box.add_widget(_back_row(ui, confirm))
    return box


def done(ui: Ui) -> Widget:
    state = ui.flow.state
    box = _column(ui.label(ui.t("done.receipt_title"), 60, color=(0.04, 0.43, 0.31, 1), size_hint_y=None, height=140))
    box.add_widget(ui.register("outcome.message", ui.label(ui.say(state.message), 44)))
    box.add_widget(ui.button("outcome.home", ui.t("nav.home"), ui.flow.home, height=TOUCH * 1.5))
    return box


def _order_text(ui: Ui, order: ServiceOrderOut) -> str:
    what = ui.item_name(order.item_name, order.item_name_en) or order.description
    lines = [f"{order.number}  [{ui.t('desk_state.' + order.state)}]", f"{ui.t('service.' + order.kind)} · {what}"]
    if order.appointment_start is not None:
        lines.append(ui.t("my.appointment", at=ui.local(order.appointment_start)))
    if order.visit is not None:
        visit = order.visit
        text = ui.t("my.visit", worker=visit.worker or "—", at=ui.local(visit.done_at or visit.started_at))
        lines.append(text + (f" · {visit.unfinished_reason}" if visit.unfinished_reason else ""))
    if order.callback is not None:
        lines.append(ui.t("my.callback", outcome=ui.t(f"callback.{order.callback.outcome}")))
    return "\n".join(lines)


def my_orders(ui: Ui) -> Widget:
    flow = ui.flow
    rows: list[Widget] = []
    if not flow.desk.orders and not flow.desk.forms:
        rows.append(ui.label(ui.t("my.orders_empty"), 40, size_hint_y=None, height=120))
    for order in flow.desk.orders:
        row = BoxLayout(spacing=12, size_hint_y=None, height=TOUCH * 2.2)
        row.add_widget(ui.register(f"order.{order.number}", ui.label(_order_text(ui, order), 28, halign="left")))
        if order.withdrawable:
            asked = flow.desk.cancelling == order.number
            row.add_widget(
                ui.button(
                    f"cancel.{order.number}",
                    ui.t("my.cancel_sure" if asked else "my.cancel"),
                    lambda n=order.number: flow.cancel_order(n),
                    "primary" if asked else "neutral",
                    size_hint_x=None,
                    width=240,
                )
            )
        rows.append(row)
    for form in flow.desk.forms:
        text = f"{form.number}  [{ui.t('desk_state.' + form.state)}]\n{ui.t('service.feedback')} · {form.subject}"
        if form.answer:
            text += "\n" + ui.t("my.answer", answer=form.answer)
        rows.append(ui.register(f"form.{form.number}", ui.label(text, 28, halign="left", size_hint_y=None,
                                                                height=TOUCH * 1.6)))  # fmt: skip
    slips = ui.button("orders.back", ui.t("my.slips"), flow.desk_back, "neutral", size_hint_y=None, height=TOUCH)
    return _column(_title(ui, "my.orders_title"), _list(*rows), _error(ui), slips, spacing=16)


def order_state(ui: Ui) -> Widget:
    order = ui.flow.desk.shown
    box = _column(_title(ui, "order_state.title"))
    if order is not None:
        box.add_widget(ui.register("order_state.text", ui.label(_order_text(ui, order), 40)))
    box.add_widget(ui.button("outcome.home", ui.t("nav.home"), ui.flow.home, height=TOUCH * 1.5))
    return box


DESK_BUILDERS: dict[Screen, Callable[[Ui], Widget]] = {
    Screen.REPAIR_CATEGORY: repair_category,
    Screen.REPAIR_PROBLEM: repair_problem,
    Screen.REPAIR_PLACE: repair_place,
    Screen.CLEANING_SERVICE: cleaning_service,
    Screen.SLOT: slot,
    Screen.FEEDBACK_KIND: feedback_kind,
    Screen.FEEDBACK_TOPIC: feedback_topic,
    Screen.DESK_TEXT: desk_text,
    Screen.FEEDBACK_CONTACT: feedback_contact,
    Screen.DESK_REVIEW: desk_review,
    Screen.MY_ORDERS: my_orders,
    Screen.ORDER_STATE: order_state,
}
