"""What a resident picks for a service-desk request before confirming it, and what the desk answered: the catalogue
and time slots fetched at identification, the repair's problem, place and slot, the cleaning's service and slot, the
feedback's kind, topic, words and how to be contacted back; then the confirmed order or form, and my orders."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.contract.service import (
    FeedbackOut,
    ServiceCatalogueOut,
    ServiceCategoryOut,
    ServiceItemOut,
    ServiceOrderOut,
    ServiceSlotOut,
)
from terminal.pinyin import Composer

# Where in the unit (R-REP-2: the repairer knows where to go), shown by the catalogue keys `place.<code>` and
# recorded on the order in Chinese whatever the screen's language, as the desk's records are.
PLACES = {"kitchen": "厨房", "bathroom": "卫生间", "living_room": "客厅", "bedroom": "卧室", "balcony": "阳台",
          "entrance": "入户门", "whole_unit": "全屋"}  # fmt: skip
# What a feedback form is most often about (`topic.<code>`), recorded as its subject in Chinese.
TOPICS = {"cleanliness": "环境卫生", "security": "安全秩序", "repairs": "维修服务", "staff": "服务态度",
          "parking": "停车管理", "noise": "噪音扰民", "greenery": "绿化养护", "other": "其他事项"}  # fmt: skip
CONTACT_BACK = ("phone", "visit", "none")
MAX_TEXT_CHARS = 200  # the on-screen keyboard's words: notes or the feedback's details


@dataclass
class DeskDraft:
    catalogue: ServiceCatalogueOut | None = None
    slots: list[ServiceSlotOut] = field(default_factory=list)
    category: str = ""  # repair category code
    item: ServiceItemOut | None = None  # the common problem or the cleaning service
    place: str = ""
    slot: ServiceSlotOut | None = None
    feedback_kind: str = ""
    topic: str = ""
    contact_back: str = "phone"
    text: str = ""  # notes (repair, cleaning) or details (feedback), as typed
    composer: Composer | None = None  # the on-screen keyboard while typing `text`
    order: ServiceOrderOut | None = None  # the confirmed answer, what was printed
    form: FeedbackOut | None = None
    orders: list[ServiceOrderOut] = field(default_factory=list)  # my requests
    forms: list[FeedbackOut] = field(default_factory=list)
    cancelling: str = ""  # the order whose withdrawal waits for a second tap
    shown: ServiceOrderOut | None = None  # the order a scanned confirmation named
    scanned: str = ""  # what the code reader typed so far on the home screen

    def categories(self, kind: str) -> list[ServiceCategoryOut]:
        if self.catalogue is None:
            return []
        return list(self.catalogue.repair if kind == "repair" else self.catalogue.cleaning)

    def problems(self) -> list[ServiceItemOut]:
        return next((c.items for c in self.categories("repair") if c.code == self.category), [])

    def cleaning_items(self) -> list[ServiceItemOut]:
        return [item for category in self.categories("cleaning") for item in category.items]

    def slot_days(self) -> list[str]:
        return sorted({s.day.isoformat() for s in self.slots})
