"""The kiosk's slip for a resident identified by card, checked in plain statements on a reading connection: the
server's busiest request after the gate's release, kept as cheap as its rules.

The rules are the full route's own functions on plain values: who may have a slip (`eligibility.refusal`,
R-REL-2/5), the lines (`issuing.resolve_lines`), the slip itself (`issuing.new_slip`); the write is
`issuing.issue_plain`, as for the full route. Anything out of the ordinary gives None, and the full route answers:
a card or unit not found, too many unknown cards, a refusal (which the full route records), a proxy, a retried key,
the estate's first slip (which makes the signing key or the catalogue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.db.models import ApplicantKind, Estate, Occupancy, OccupancyKind, Person, Unit
from server.db.plain import Plain
from server.domain import clock, idempotency, registry
from server.domain.actors import Actor
from server.domain.secrets import CARD_DIGEST, digest_with
from server.domain.slips import eligibility, issuing
from server.domain.slips.gate.lane import Gate


@dataclass(frozen=True)
class Checked:
    """A request the rules accept, its slip drafted; and the catalogue's English names for its answer."""

    drafted: issuing.Drafted
    english: dict[str, str]


def check(
    db: Plain,
    kiosk: Gate,
    actor: Actor,
    write: idempotency.DeviceWrite,
    *,
    unit: str,
    kind: ApplicantKind,
    card: str,
    draft: issuing.SlipDraft,
    signature: bytes | None,
    now: datetime,
) -> Checked | None:
    """The request of a resident who showed `card` at `kiosk`, for `unit`, checked and its slip drafted; None when
    the full route must answer. A request the full route would refuse as malformed raises its DomainError."""
    if kind == ApplicantKind.proxy:
        return None
    code = str(registry.parse_unit_code(unit))
    with db.sent_together() as reads:  # PostgreSQL: one round trip for all of them
        kept = idempotency.kept_later(reads, write)
        unit_row = reads.execute(_UNIT, (kiosk.estate_id, code))
        failures = reads.execute(
            _CARD_FAILURES, (registry.card_attempts(kiosk.id), reads.time(now - registry.CARD_WINDOW))
        )
        secret_row = reads.execute(_SECRET, (CARD_DIGEST,))
        catalogue = reads.execute(_CATALOGUE, (kiosk.estate_id,))
        active_key = reads.execute(_ACTIVE_KEY)
        found, secret = unit_row.fetchone(), secret_row.fetchone()
        too_many = failures.fetchone()[0] >= registry.MAX_CARD_FAILURES
        rows, key = catalogue.fetchall(), active_key.fetchone()
        if kept():
            return None
    if found is None or too_many or secret is None:
        return None
    unit_id, arrears_fen = found
    # The card's holder, with what they hold in the unit (a row for each occupancy, or one with none).
    holder = db.execute(_HOLDER, (unit_id, digest_with(bytes.fromhex(secret[0]), card), kiosk.estate_id)).fetchall()
    if not holder or holder[0][2] != kiosk.estate_id:
        return None
    person = holder[0][:3]
    estate = Estate(id=kiosk.estate_id, code=kiosk.estate_code, name=kiosk.estate_name, timezone=kiosk.timezone)
    today = clock.local_day(estate, now)
    held = {
        OccupancyKind(held_kind)
        for _id, _name, _estate, held_kind, starts_on, ends_on in holder
        if held_kind is not None
        and Occupancy(starts_on=db.read_day(starts_on), ends_on=db.read_day(ends_on)).current_on(today)
    }
    if eligibility.refusal(code, arrears_fen, kind, held) is not None:
        return None
    if not rows or key is None:
        return None
    issuing.check_dates(estate, draft, now)
    lines = issuing.resolve_lines({c: name for c, name, _en, active in rows if active}, draft.lines)
    applicant = eligibility.Applicant(kind, Person(id=person[0], name=person[1], estate_id=kiosk.estate_id))
    slip = issuing.new_slip(
        actor,
        estate,
        Unit(id=unit_id, code=code, estate_id=kiosk.estate_id, arrears_fen=arrears_fen),
        applicant,
        draft,
        lines,
        channel="kiosk",
        now=now,
        key_id=key[0],
    )
    english = {c: name_en for c, _name, name_en, _active in rows if name_en}
    return Checked(issuing.Drafted(actor, slip, estate, key[1], signature), english)


_UNIT = "SELECT id, arrears_fen FROM units WHERE estate_id = ? AND code = ?"
_CARD_FAILURES = "SELECT count(*) FROM login_attempts WHERE username = ? AND success = FALSE AND at >= ?"
_SECRET = "SELECT value FROM server_secrets WHERE name = ?"
_HOLDER = (
    "SELECT p.id, p.name, p.estate_id, o.kind, o.starts_on, o.ends_on FROM resident_credentials c"
    " JOIN persons p ON p.id = c.person_id LEFT OUTER JOIN occupancies o ON o.person_id = p.id AND o.unit_id = ?"
    " WHERE c.card_digest = ? AND c.estate_id = ?"
)
_CATALOGUE = "SELECT code, name, name_en, active FROM slip_catalogue WHERE estate_id = ? ORDER BY position, id"
_ACTIVE_KEY = "SELECT id, private_key FROM slip_signing_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1"
