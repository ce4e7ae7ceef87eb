"""The offline check (HARDWARE-NOTES "Signed offline tickets"): the token's Ed25519 signature against the synced
public keys, the estate, the validity, the synced revocation list, the slips the server said were used, and the
slips used at this very gate. A typed number is looked up among the day's slips and its token checked the same way.
Workers' passes (R-REN-6) are checked with the same keys and the synced list of passes withdrawn, suspended or ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gate.flows.verdict import ItemLine, Rejection, SlipView, Verdict
from gate.store import LocalStore
from server.contract import slip_token
from server.contract.client import key_ring
from server.contract.device import DeviceInfo
from server.contract.schemas import (
    CatalogueItemOut,
    GateCatalogueOut,
    GateSlipsOut,
    GuardRosterOut,
    KeysOut,
    PassRevocationOut,
    RevocationsOut,
    SlipOut,
)

KEYS, REVOCATIONS, GUARDS, SLIPS, DEVICE = "keys", "revocations", "guards", "slips", "device"
CATALOGUE = "catalogue"


@dataclass(frozen=True)
class Reference:
    """One consistent snapshot of what the gate downloaded; replaced whole after each sync."""

    estate: str | None = None
    ring: dict[int, Ed25519PublicKey] = field(default_factory=dict)
    revoked: frozenset[str] = frozenset()
    released: frozenset[str] = frozenset()
    slips: dict[str, SlipOut] = field(default_factory=dict)
    roster: GuardRosterOut | None = None
    device: DeviceInfo | None = None  # this gate as the server knows it (its name, the estate's time zone)
    catalogue: dict[str, CatalogueItemOut] = field(default_factory=dict)  # by code, names in both languages
    # workers' passes withdrawn, suspended or ended, by number (R-REN-6); a reinstated pass is no longer listed
    passes: dict[str, PassRevocationOut] = field(default_factory=dict)

    @classmethod
    def load(cls, store: LocalStore) -> Reference:
        keys = store.reference(KEYS)
        revocations = store.reference(REVOCATIONS)
        guards = store.reference(GUARDS)
        slips = store.reference(SLIPS)
        device = store.reference(DEVICE)
        items = store.reference(CATALOGUE)
        rev = RevocationsOut.model_validate_json(revocations[0]) if revocations else None
        day = GateSlipsOut.model_validate_json(slips[0]) if slips else None
        return cls(
            estate=rev.estate if rev else (day.estate if day else None),
            ring=key_ring(KeysOut.model_validate_json(keys[0])) if keys else {},
            revoked=frozenset(rev.revoked) if rev else frozenset(),
            released=frozenset(rev.released) if rev else frozenset(),
            slips={s.number: s for s in day.slips} if day else {},
            roster=GuardRosterOut.model_validate_json(guards[0]) if guards else None,
            device=DeviceInfo.model_validate_json(device[0]) if device else None,
            catalogue={i.code: i for i in GateCatalogueOut.model_validate_json(items[0]).items} if items else {},
            passes={p.number: p for p in rev.passes} if rev else {},
        )

    def line(self, number: int, item: slip_token.ItemLine) -> ItemLine:
        """A line of a token the gate has no synced slip for: a catalogue code shown by its names (床, not BED)."""
        known = None if item.free_text else self.catalogue.get(item.label)
        if known is None:
            return ItemLine(number, item.label, item.quantity)
        return ItemLine(number, known.name, item.quantity, known.name_en)


def typed_number(text: str) -> bool:
    return bool(slip_token.NUMBER_PATTERN.match(text.strip().upper()))


class OfflineVerifier:
    def __init__(self, store: LocalStore, gate_name: str | None) -> None:
        self.store = store
        self.configured_name = gate_name
        self.reference = Reference.load(store)

    @property
    def gate_name(self) -> str:
        """The name guards know this gate by: as configured, else as enrolled on the server."""
        if self.configured_name:
            return self.configured_name
        return self.reference.device.name if self.reference.device is not None else "本门岗"

    def reload(self) -> None:
        self.reference = Reference.load(self.store)

    def local_rejection(self, number: str, text: str, online: bool) -> Verdict | None:
        """A slip this gate already decided: refused here at once, online or not (the upload may be pending)."""
        use = self.store.local_use(number)
        if use is None:
            return None
        if use.outcome == "released":
            return Verdict(
                text, online, code=Rejection.ALREADY_RELEASED, released_at=use.at, released_gate=self.gate_name
            )
        return Verdict(text, online, code=Rejection.REFUSED)

    def check(self, text: str, now: datetime) -> Verdict:
        ref = self.reference
        text = text.strip()
        if ref.estate is None or not ref.ring:
            return Verdict(text, False, code=Rejection.NOT_SYNCED)
        cached: SlipOut | None = None
        token = text
        if typed_number(text):
            number = text.upper()
            try:
                estate, _day, _seq = slip_token.parse_slip_number(number)
            except slip_token.TokenError as exc:
                return Verdict(text, False, code=exc.code)
            if estate != ref.estate:
                return Verdict(text, False, code=Rejection.WRONG_ESTATE)
            cached = ref.slips.get(number)
            if cached is None:
                return Verdict(text, False, code=Rejection.UNKNOWN_SLIP)
            token = cached.token
        try:
            claims = slip_token.verify(token, ref.ring, estate=ref.estate, now=now)
        except slip_token.TokenError as exc:
            return Verdict(text, False, code=exc.code)
        number = claims.number
        cached = cached or ref.slips.get(number)
        if cached is not None and cached.state == "cancelled":
            return Verdict(text, False, code=Rejection.CANCELLED)
        if number in ref.revoked:  # revoked or cancelled after the day's slips were fetched
            return Verdict(text, False, code=Rejection.REVOKED)
        if cached is not None and cached.token != token:
            return Verdict(text, False, code=Rejection.REVOKED)  # re-issued: only the newest code is good
        local = self.local_rejection(number, text, False)
        if local is not None:
            return local
        if number in ref.released or (cached is not None and cached.state == "released"):
            return Verdict(text, False, code=Rejection.ALREADY_RELEASED)
        if cached is not None and cached.state in ("cancelled", "refused"):
            return Verdict(text, False, code=cached.state)
        if cached is not None:
            return Verdict(text, False, slip=SlipView.from_out(cached, text))
        lines = tuple(ref.line(i, item) for i, item in enumerate(claims.items, start=1))
        return Verdict(text, False, slip=SlipView(number, claims.unit, claims.valid_until, lines, text))
