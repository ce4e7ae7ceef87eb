"""The slip-token codec of the contract: compact ASCII, self-contained, and no altered text ever verifies."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from server.contract import slip_token
from server.contract.slip_token import ItemLine, SlipClaims, TokenError

KEY = Ed25519PrivateKey.generate()
RING = {3: KEY.public_key()}
UNTIL = datetime(2026, 11, 27, 15, 59, 59, tzinfo=UTC)
NOW = UNTIL - timedelta(hours=2)


def claims(items: tuple[ItemLine, ...]) -> SlipClaims:
    return SlipClaims(3, "GH", date(2026, 11, 27), 42, "12-28B", UNTIL, items)


CODES = ("SOFA", "BED", "WARD", "FRDG", "WASH", "TV", "AC", "PC", "BOX", "BIKE")


def test_ten_catalogue_lines_or_ten_chinese_names_fit_the_qr_budget() -> None:
    coded = slip_token.encode(claims(tuple(ItemLine(c, 12) for c in CODES)), KEY)
    named = slip_token.encode(claims(tuple(ItemLine("红木大衣柜", 2, True) for _ in range(10))), KEY)
    for text in (coded, named):
        assert text.isascii() and len(text) <= 350
    read = slip_token.verify(coded, RING, estate="GH", now=NOW)
    assert read.number == "GH-20261127-0042" and read.unit == "12-28B" and read.valid_until == UNTIL
    assert [(i.label, i.quantity) for i in read.items] == [(c, 12) for c in CODES]


def test_checks_in_order() -> None:
    text = slip_token.encode(claims((ItemLine("SOFA", 1),)), KEY)
    with pytest.raises(TokenError) as err:
        slip_token.verify(text, {}, estate="GH", now=NOW)
    assert err.value.code == "unknown_key"
    with pytest.raises(TokenError) as err:
        slip_token.verify(text, {3: Ed25519PrivateKey.generate().public_key()}, estate="GH", now=NOW)
    assert err.value.code == "bad_signature"
    with pytest.raises(TokenError) as err:
        slip_token.verify(text, RING, estate="HY", now=NOW)
    assert err.value.code == "wrong_estate"
    with pytest.raises(TokenError) as err:
        slip_token.verify(text, RING, estate="GH", now=UNTIL + timedelta(seconds=1))
    assert err.value.code == "expired"
    with pytest.raises(TokenError) as err:
        slip_token.verify(text, RING, estate="GH", now=NOW, revoked={"GH-20261127-0042"})
    assert err.value.code == "revoked"
    assert slip_token.verify(text, RING, estate="GH", now=UNTIL).seq == 42  # valid through its last second


item_lines = st.lists(
    st.one_of(
        st.builds(ItemLine, st.sampled_from(CODES), st.integers(1, 9999)),
        st.builds(
            ItemLine,
            st.text(min_size=1, max_size=16).filter(lambda t: len(t.encode()) <= 48),
            st.integers(1, 999),
            st.just(True),
        ),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=150, deadline=None)
@given(
    items=item_lines, position=st.integers(min_value=0), replacement=st.characters(min_codepoint=32, max_codepoint=126)
)
def test_no_altered_token_verifies(items: list[ItemLine], position: int, replacement: str) -> None:
    text = slip_token.encode(claims(tuple(items)), KEY)
    assert slip_token.verify(text, RING, estate="GH", now=NOW).items == tuple(items)
    index = position % len(text)
    altered = text[:index] + replacement + text[index + 1 :]
    if altered == text:
        return
    with pytest.raises(TokenError) as err:
        slip_token.verify(altered, RING, estate="GH", now=NOW)
    assert err.value.code in {"malformed", "bad_signature", "unknown_key"}


@settings(max_examples=150, deadline=None)
@given(items=item_lines, cut=st.integers(min_value=1, max_value=400))
def test_truncated_or_extended_tokens_do_not_verify(items: list[ItemLine], cut: int) -> None:
    text = slip_token.encode(claims(tuple(items)), KEY)
    for altered in (text[: max(0, len(text) - cut)], text + "A" * (cut % 5 + 1)):
        with pytest.raises(TokenError):
            slip_token.verify(altered, RING, estate="GH", now=NOW)


@settings(max_examples=400, deadline=None)
@given(
    garbage=st.one_of(
        st.text(max_size=500),
        st.binary(max_size=300).map(lambda b: "RS1:" + base64.urlsafe_b64encode(b).decode().rstrip("=")),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=400).map(
            lambda t: "RS1:" + t
        ),
    )
)
def test_random_garbage_never_raises_anything_but_token_error(garbage: str) -> None:
    try:
        slip_token.verify(garbage, RING, estate="GH", now=NOW)
    except TokenError as exc:
        assert exc.code in {"malformed", "unknown_key", "bad_signature"}


def test_claims_a_token_cannot_carry_are_refused_when_encoding() -> None:
    with pytest.raises(ValueError):
        slip_token.encode(claims(()), KEY)
    with pytest.raises(ValueError):
        slip_token.encode(claims((ItemLine("沙发", 1),)), KEY)  # a catalogue code is ASCII
    with pytest.raises(ValueError):
        slip_token.encode(claims(tuple(ItemLine("BOX", 1) for _ in range(11))), KEY)
