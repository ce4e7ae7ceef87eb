"""Bodies of the slip and gate API, shared by the server (which answers with them) and its clients."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.contract.fields import Day, Moment, Text

ApplicantKind = Literal["owner", "tenant", "proxy"]
SlipState = Literal["issued", "released", "refused", "cancelled", "expired"]


class ItemLineIn(BaseModel):
    """An item line: a catalogue code (``SOFA``) or a free-text name, and how many."""

    model_config = ConfigDict(extra="forbid")

    code: Text | None = Field(None, min_length=1, max_length=8, description="catalogue code, e.g. SOFA")
    name: Text | None = Field(None, min_length=1, max_length=16, description="free text when not in the catalogue")
    quantity: int = Field(ge=1, le=999)

    @model_validator(mode="after")
    def _one_of(self) -> ItemLineIn:
        if (self.code is None) == (self.name is None):
            raise ValueError("give either code or name")
        return self


class ResidentIdentity(BaseModel):
    """How a kiosk proves who asks: the resident card, or unit and PIN."""

    model_config = ConfigDict(extra="forbid")

    card: Text | None = Field(None, min_length=1, max_length=40)
    pin: Text | None = Field(None, min_length=4, max_length=8)

    @model_validator(mode="after")
    def _one_way(self) -> ResidentIdentity:
        if (self.card is None) == (self.pin is None):
            raise ValueError("give either card or pin")
        return self


class SlipRequest(BaseModel):
    """A resident's request for a release slip, sent by a kiosk (owner or tenant, identified again here)."""

    model_config = ConfigDict(extra="forbid")

    unit: Text = Field(min_length=3, max_length=16, examples=["5-8B"])
    applicant: ApplicantKind
    identity: ResidentIdentity
    items: list[ItemLineIn] = Field(min_length=1, max_length=10)
    planned_date: Day
    vehicle_plate: Text = Field("", max_length=12)
    note: Text = Field("", max_length=200)
    signature_png_b64: Text | None = Field(
        None,
        max_length=400_000,
        description="the applicant's signature from the kiosk's pad, a PNG in base64, at most 200 KB (R-REL-2)",
    )


class SlipItemOut(BaseModel):
    line: int
    code: str | None
    name: str
    name_en: str = Field("", description="the catalogue's English name; empty for free text (then show `name`)")
    quantity: int


class PrintData(BaseModel):
    """What a kiosk prints: both parts of the slip (存根联 stays, 客户联 goes to the resident)."""

    title: str
    estate_name: str
    number: str
    unit: str
    applicant: str
    items: list[SlipItemOut]
    valid_until_local: str
    qr_text: str
    notes: list[str]
    copies: list[str]


class SlipOut(BaseModel):
    number: str
    estate: str
    unit: str
    applicant_kind: ApplicantKind
    state: SlipState
    revoked: bool
    countersign_pending: bool
    planned_date: date
    valid_until: datetime
    issued_at: datetime
    vehicle_plate: str
    items: list[SlipItemOut]
    token: str
    print: PrintData | None = None
    applicant: str = Field("", description="the applicant's name as printed on the slip")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=2000, description="the scanned QR text, or a typed slip number")


class VerifyResult(BaseModel):
    """A slip that may pass: count its items against it (R-REL-6)."""

    slip: SlipOut


class CountedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: int = Field(ge=1, le=10)
    counted: int = Field(ge=0, le=9999)


class ReleaseRequest(BaseModel):
    """The guard's check at the gate: counted quantity per line; all equal → released, else refused (R-REL-6)."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=2000, description="the scanned QR text, or a typed slip number")
    guard: Text = Field(min_length=1, max_length=40)
    lines: list[CountedLine] = Field(min_length=1, max_length=10)
    reason: Text = Field("", max_length=200, description="the guard's words when the items do not match")
    refuse: bool = Field(
        False,
        description="refuse although every count matches (an item not on the slip, damaged goods …): needs a reason",
    )
    photo_jpeg_b64: Text | None = Field(None, max_length=3_000_000)
    decided_at: Moment | None = Field(
        None,
        description="set when the gate re-sends a release it already showed the guard as done (the first answer was "
        "lost): the original time. A slip released meanwhile elsewhere then becomes a conflict, not a rejection",
    )


class ReleaseOut(BaseModel):
    number: str
    outcome: Literal["released", "refused"]
    at: datetime
    reason: str
    state: SlipState


class GateEvent(BaseModel):
    """Something a gate recorded while offline, with its original time and a nonce (one record per nonce)."""

    model_config = ConfigDict(extra="forbid")

    nonce: Text = Field(min_length=8, max_length=64)
    kind: Literal["release", "refuse", "reject", "sign_in", "stop"]
    text: Text = Field(
        min_length=1,
        max_length=2000,
        description="the scanned text; for a sign-in, the guard's username; for a stop, the goods held",
    )
    at: Moment
    guard: Text = Field("", max_length=40)
    lines: list[CountedLine] = Field(default_factory=list, max_length=10)
    reason: Text = Field("", max_length=200)
    code: Text = Field("", max_length=30, description="for a rejected scan: the rejection code the gate showed")


class GateStopIn(BaseModel):
    """Goods a guard stopped with no slip at all, for the gate release log 《物品放行登记》 (R-REL-6)."""

    model_config = ConfigDict(extra="forbid")

    goods: Text = Field(min_length=1, max_length=200, description="what was being carried out")
    reason: Text = Field(min_length=1, max_length=200)
    guard: Text = Field(min_length=1, max_length=40)
    photo_jpeg_b64: Text | None = Field(None, max_length=3_000_000)


class GateStopOut(BaseModel):
    id: int
    at: datetime
    gate: str


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[GateEvent] = Field(min_length=1, max_length=500)


class SyncResult(BaseModel):
    nonce: str
    result: Literal["recorded", "conflict", "rejected", "duplicate"]
    code: str = ""


class SyncOut(BaseModel):
    results: list[SyncResult]


class PublicKeyOut(BaseModel):
    key_id: int
    public_key: str = Field(description="raw Ed25519 public key, base64url")
    active: bool
    publish_until: datetime | None


class KeysOut(BaseModel):
    keys: list[PublicKeyOut]


class PassRevocationOut(BaseModel):
    """A worker's pass an offline gate must refuse although its signature and days are good (R-REN-6)."""

    number: str
    state: str = Field(
        description="withdrawn (or replaced by an extension's new pass); suspended: the renovation's works are "
        "stopped until further notice; ended: the works finished early (completion acceptance applied for). A gate "
        "refuses a pass listed with a state it does not know as withdrawn."
    )
    since: datetime = Field(description="the time from which the pass is not valid")
    reason: str = Field("", description="the suspension's reason, as the CS centre wrote it")


class RevocationsOut(BaseModel):
    estate: str
    revoked: list[str] = Field(description="numbers of revoked or cancelled slips still inside their validity")
    released: list[str] = Field(description="numbers of slips already used and still inside their validity")
    passes: list[PassRevocationOut] = Field(
        default_factory=list,
        description="workers' passes still inside their days that are withdrawn, or whose renovation is suspended "
        "or ended; a pass whose suspension is lifted is no longer listed (valid again from the next sync)",
    )


# --- gate terminal


class GuardSignInRequest(BaseModel):
    """A guard starting a shift at a gate: the PIN typed on the keypad, or the staff card read."""

    model_config = ConfigDict(extra="forbid")

    pin: Text | None = Field(None, min_length=6, max_length=8, pattern=r"^\d+$")
    card: Text | None = Field(None, min_length=1, max_length=40)

    @model_validator(mode="after")
    def _one_way(self) -> GuardSignInRequest:
        if (self.pin is None) == (self.card is None):
            raise ValueError("give either pin or card")
        return self


class GuardOut(BaseModel):
    """The guard on shift: every release and refusal carries this name (R-REL-6)."""

    user_id: int
    username: str
    display_name: str


class GuardRosterEntry(GuardOut):
    pin_hash: str | None = Field(description="salted scrypt hash of the PIN (server.contract.guard_secret)")
    card_hash: str | None = Field(description="salted scrypt hash of the staff card number")


class GuardRosterOut(BaseModel):
    """The estate's active guards, so a gate can sign a guard in while the network is down."""

    estate: str
    guards: list[GuardRosterEntry]


class GateSlipsOut(BaseModel):
    """Slips a gate may meet on `day` (issued by then and still valid at its start), for typed numbers offline."""

    estate: str
    day: date
    slips: list[SlipOut]


# --- kiosk


class KioskIdentify(BaseModel):
    """A resident identifies at the kiosk by card, or by unit and PIN (the body of POST /residents/identify)."""

    model_config = ConfigDict(extra="forbid")

    card: Text | None = Field(None, min_length=1, max_length=40)
    unit: Text | None = Field(None, min_length=3, max_length=16)
    pin: Text | None = Field(None, min_length=4, max_length=8)

    @model_validator(mode="after")
    def _one_way(self) -> KioskIdentify:
        if self.card is None and (self.unit is None or self.pin is None):
            raise ValueError("give either card, or unit and pin")
        if self.card is not None and (self.unit is not None or self.pin is not None):
            raise ValueError("give either card, or unit and pin, not both")
        return self


class Refusal(BaseModel):
    """A refusal told ahead, as the API's error would say it: code, Chinese and English message, extra fields."""

    code: str
    message: str
    message_en: str
    detail: dict[str, Any] = Field(default_factory=dict)


class KioskResidentUnit(BaseModel):
    unit: str
    kind: str = Field(description="owner, tenant or family")
    applicant: ApplicantKind = Field(description="how this resident applies for a slip of this unit")
    slip_refusal: Refusal | None = Field(
        None, description="why a slip of this unit would be refused to this resident now (R-REL-5), if it would"
    )


class KioskResident(BaseModel):
    """The identified resident: a masked name for the screen and the units they live in now."""

    person_id: int
    display_name: str = Field(description="masked for the kiosk screen, e.g. 张*明")
    units: list[KioskResidentUnit]


KioskService = Literal["item_release", "my_requests"]


class KioskServicesOut(BaseModel):
    """What this server offers the kiosk, in home-screen order, and how the estate tells time."""

    estate_name: str
    timezone: str
    services: list[KioskService]
    unit_letters: list[str] = Field(
        default_factory=list, description="the letters of the estate's unit codes, A→Z, for the unit keypad"
    )


class CatalogueItemOut(BaseModel):
    code: str
    name: str
    name_en: str


class CatalogueOut(BaseModel):
    items: list[CatalogueItemOut]


class MySlipsRequest(BaseModel):
    """The resident identified again: card, or PIN with the unit it belongs to."""

    model_config = ConfigDict(extra="forbid")

    unit: Text | None = Field(None, min_length=3, max_length=16)
    identity: ResidentIdentity

    @model_validator(mode="after")
    def _unit_with_pin(self) -> MySlipsRequest:
        if self.identity.pin is not None and self.unit is None:
            raise ValueError("a PIN needs the unit")
        return self


class MySlipOut(BaseModel):
    number: str
    unit: str
    state: SlipState = Field(description="as it stands now: an unused slip past its validity shows as expired")
    issued_at: datetime
    valid_until: datetime
    gate_at: datetime | None = Field(description="when the gate released (or refused) it")
    items: list[SlipItemOut]
    reprintable: bool


class MySlipsOut(BaseModel):
    slips: list[MySlipOut]


class GateCatalogueOut(BaseModel):
    """The estate's item catalogue, so a gate shows names, not codes, for a slip it has not synced."""

    estate: str
    items: list[CatalogueItemOut]
