"""What a kiosk screen shows: the screen, the texts to show (as catalogue keys) and one resident's session."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kiosk.flows.desk_draft import DeskDraft
from kiosk.flows.draft import ItemDraft
from kiosk.flows.signature import SignaturePad
from server.contract.schemas import CatalogueItemOut, KioskResidentUnit, MySlipOut, SlipOut
from server.contract.zones import DEFAULT_ZONE
from terminal.pinyin import Composer


class Screen(StrEnum):
    HOME = "home"
    IDENTIFY = "identify"
    UNIT_PICK = "unit_pick"
    ITEMS = "items"
    OTHER = "other"
    REVIEW = "review"
    SIGN = "sign"  # the applicant signs on the touch screen before the slip prints (R-REL-2)
    DONE = "done"
    REFUSED = "refused"
    FAULT = "fault"
    MY_SLIPS = "my_slips"
    # the service desk (desk.py): repairs, home cleaning, feedback, and what a resident sees of them
    REPAIR_CATEGORY = "repair_category"
    REPAIR_PROBLEM = "repair_problem"
    REPAIR_PLACE = "repair_place"
    CLEANING_SERVICE = "cleaning_service"
    SLOT = "slot"
    FEEDBACK_KIND = "feedback_kind"
    FEEDBACK_TOPIC = "feedback_topic"
    DESK_TEXT = "desk_text"
    FEEDBACK_CONTACT = "feedback_contact"
    DESK_REVIEW = "desk_review"
    MY_ORDERS = "my_orders"
    ORDER_STATE = "order_state"


class Service(StrEnum):
    ITEM_RELEASE = "item_release"
    REPAIR = "repair"
    CLEANING = "cleaning"
    FEEDBACK = "feedback"
    MY_REQUESTS = "my_requests"


DESK_SERVICES = (Service.REPAIR, Service.CLEANING, Service.FEEDBACK)


@dataclass(frozen=True)
class Message:
    """A text to show: a key of the translation catalogue and the values it needs."""

    key: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class IdentifyInput:
    mode: str = "card"  # card | pin
    card: str = ""  # what the card reader typed so far (never shown)
    unit: str = ""
    pin: str = ""
    field: str = "unit"  # which box the keypad types into: unit | pin
    wrong_pins: int = 0


@dataclass
class ResidentSession:
    """Everything one resident entered or was shown; replaced wholesale when the kiosk goes home."""

    service: Service | None = None
    identify: IdentifyInput = field(default_factory=IdentifyInput)
    card: str | None = None  # the identity, kept only to identify again with each request
    pin: str | None = None
    display_name: str = ""
    units: list[KioskResidentUnit] = field(default_factory=list)
    unit: KioskResidentUnit | None = None
    catalogue: list[CatalogueItemOut] = field(default_factory=list)
    draft: ItemDraft = field(default_factory=ItemDraft)
    other: Composer | None = None  # the "other item" box typed on the on-screen keyboard
    signature: SignaturePad = field(default_factory=SignaturePad)
    slip: SlipOut | None = None
    my_slips: list[MySlipOut] = field(default_factory=list)
    desk: DeskDraft = field(default_factory=DeskDraft)  # a repair, cleaning or feedback request, my orders


@dataclass
class KioskState:
    screen: Screen = Screen.HOME
    language: str = "zh"
    services: list[Service] = field(default_factory=list)
    estate_name: str = ""
    timezone: str = DEFAULT_ZONE
    unit_letters: list[str] = field(default_factory=list)  # the letters of the estate's unit codes, from the server
    offline: bool = False  # the server did not answer when the home screen asked what it offers
    busy: bool = False  # a request to the server or the printer is under way; touches wait
    error: Message | None = None  # a line on the current screen (wrong PIN, unknown card …)
    message: Message | None = None  # the body of DONE, REFUSED and FAULT
    advice: Message | None = None  # what to do next, under the message
    retry: str = ""  # on FAULT: what "try again" does (identify | submit | print | reprint | ""), if anything
    session: ResidentSession = field(default_factory=ResidentSession)
