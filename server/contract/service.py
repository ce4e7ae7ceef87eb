"""Bodies of the service desk's kiosk API (`/api/v1/service/…`): the catalogue of repairs and cleaning services with
their listed prices, the bookable time slots, a resident's repair request, cleaning booking and feedback, and the
resident's own requests as they stand.

The resident proves who they are on every call as for their slips: the resident card, or the unit and its PIN
(`ResidentIdentity`); requests are for a unit they live in now. Money is in fen; the kiosk never sends an amount:
a price comes from the price list line it names (R-REP-3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.contract.fields import Moment, Text
from server.contract.schemas import ResidentIdentity

ServiceName = Literal["repair", "cleaning", "feedback"]
OrderKind = Literal["repair", "cleaning"]
FeedbackKind = Literal["suggestion", "complaint", "praise", "question"]
ContactBack = Literal["phone", "visit", "none"]

# --- the catalogue and the time slots


class ServiceItemOut(BaseModel):
    """A line of the price list 《便民服务一览表》: a common problem or a service and its price (0: free)."""

    code: str
    name: str
    name_en: str
    unit: str = Field(description="what the price is per: 次 (a visit), 米, 小时 …")
    price_fen: int
    paid: bool


class ServiceCategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    items: list[ServiceItemOut]


class FeedbackCategoryOut(BaseModel):
    code: FeedbackKind
    name: str
    name_en: str


class ServiceCatalogueOut(BaseModel):
    """`GET /service/catalogue`: what the estate's service desk offers at the kiosk. A kind with no active line on
    the price list is not in `offered` (draw no button for it)."""

    offered: list[ServiceName]
    repair: list[ServiceCategoryOut]
    cleaning: list[ServiceCategoryOut]
    feedback: list[FeedbackCategoryOut]


class ServiceSlotOut(BaseModel):
    day: date = Field(description="the estate's local day")
    start: datetime
    end: datetime
    label: str = Field(description="the estate's wall-clock time, e.g. 09:00–11:00")
    capacity: int
    free: int = Field(description="visits still bookable in it; 0: fully booked")


class ServiceSlotsOut(BaseModel):
    """`GET /service/slots?kind=…`: the next working days' visit times, in order; begun slots are left out."""

    kind: OrderKind
    timezone: str
    slots: list[ServiceSlotOut]


# --- requests


class _Resident(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: Text = Field(min_length=3, max_length=16, examples=["5-8B"], description="a unit the resident lives in")
    identity: ResidentIdentity


class RepairRequestIn(_Resident):
    """`POST /service/repairs` (Idempotency-Key): a common problem of the price list (`item`), or a `category` with
    the problem described (then free, or quoted by engineering before any work starts, R-REP-3/4); optionally a
    slot from `GET /service/slots?kind=repair` for the visit."""

    item: Text | None = Field(None, min_length=1, max_length=20)
    category: Text | None = Field(None, min_length=1, max_length=20)
    description: Text = Field("", max_length=400)
    location: Text = Field("", max_length=60, description="where in the unit: kitchen, bathroom …")
    contact_phone: Text = Field("", max_length=20, pattern=r"^[0-9+\- ]*$")
    slot: Moment | None = Field(None, description="the `start` of an offered slot")

    @model_validator(mode="after")
    def _item_or_category(self) -> RepairRequestIn:
        if (self.item is None) == (self.category is None):
            raise ValueError("give either item or category")
        return self


class CleaningBookingIn(_Resident):
    """`POST /service/cleanings` (Idempotency-Key): a cleaning service of the price list for an offered slot."""

    item: Text = Field(min_length=1, max_length=20)
    slot: Moment = Field(description="the `start` of an offered slot of `GET /service/slots?kind=cleaning`")
    description: Text = Field("", max_length=400)
    contact_phone: Text = Field("", max_length=20, pattern=r"^[0-9+\- ]*$")


class FeedbackIn(_Resident):
    """`POST /service/feedback` (Idempotency-Key): a suggestion, complaint, praise or question (R-FB-1)."""

    category: FeedbackKind
    subject: Text = Field(min_length=1, max_length=100)
    details: Text = Field("", max_length=2000)
    contact_phone: Text = Field("", max_length=20, pattern=r"^[0-9+\- ]*$")
    contact_back: ContactBack = "phone"


class ReceiptLookupIn(BaseModel):
    """`POST /service/receipt`: the QR text of a printed order confirmation, scanned at the kiosk."""

    model_config = ConfigDict(extra="forbid")

    code: Text = Field(min_length=1, max_length=64, examples=["SO1:GH-WX-202611-0042:ABCDEFGHIJKLMNOP"])


class ServiceResidentIn(BaseModel):
    """The resident identified again (my requests, withdraw): card, or PIN with the unit it belongs to."""

    model_config = ConfigDict(extra="forbid")

    unit: Text | None = Field(None, min_length=3, max_length=16)
    identity: ResidentIdentity

    @model_validator(mode="after")
    def _unit_with_pin(self) -> ServiceResidentIn:
        if self.identity.pin is not None and self.unit is None:
            raise ValueError("a PIN needs the unit")
        return self


# --- answers


class VisitOut(BaseModel):
    """The engineer's or cleaner's visit as it went."""

    worker: str
    started_at: datetime | None
    done_at: datetime | None
    unfinished_reason: str = Field("", description="why it could not be finished, when it could not (R-REP-5)")


class CallbackOut(BaseModel):
    at: datetime
    outcome: str = Field(description="reached_satisfied, reached_unsatisfied, no_answer, rebooked, cancelled")


class ServiceOrderOut(BaseModel):
    number: str
    kind: OrderKind
    state: str = Field(description="new, assigned, scheduled, dispatched, in_progress, unfinished, nobody_home, done, "
                       "returned, called_back, reopened, filed or cancelled")  # fmt: skip
    unit: str
    category: str
    category_name: str
    category_name_en: str
    item: str | None
    item_name: str
    item_name_en: str
    description: str
    paid: bool
    price_fen: int | None = Field(description="the listed price, or the accepted quote; None: free or not priced")
    appointment_start: datetime | None
    appointment_end: datetime | None
    created_at: datetime
    visit: VisitOut | None
    callback: CallbackOut | None
    withdrawable: bool = Field(description="nobody has taken it up yet: `POST …/withdraw` may withdraw it")
    receipt_code: str = Field(
        "", description="on a newly opened order: the QR text for its printed confirmation (`POST /service/receipt`)"
    )


class FeedbackOut(BaseModel):
    number: str
    category: FeedbackKind
    state: str = Field(description="received, formed, referred, replied, signed, answered, followed_up or filed")
    subject: str
    received_at: datetime
    due_at: datetime | None
    answer: str = Field("", description="the answer given to the resident, once given")


class MyRequestsOut(BaseModel):
    """The resident's own latest orders and feedback, newest first."""

    orders: list[ServiceOrderOut]
    feedback: list[FeedbackOut]
