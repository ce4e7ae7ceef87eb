"""The slip-token codec of the contract: QR-alphanumeric text, self-contained, and no altered text ever verifies."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from server.contract import slip_token
from server.contract.base45 import ALPHABET, b45decode, b45encode
from server.contract.slip_token import ItemLine, SlipClaims, TokenError

KEY = Ed25519PrivateKey.generate()
RING = {3: KEY.public_key()}
UNTIL = datetime(2026, 11, 27, 15, 59, 59, tzinfo=UTC)
NOW = UNTIL - timedelta(hours=2)


def claims(items: tuple[ItemLine, ...]) -> SlipClaims:
    return SlipClaims(3, "GH", date(2026, 11, 27), 42, "12-28B", UNTIL, items)


CODES = ("SOFA", "BED", "WARD", "FRDG", "WASH", "TV", "AC", "PC", "BOX", "BIKE")


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0)
    code.add_data(text)
    return code.best_fit()


def test_ten_catalogue_lines_or_ten_chinese_names_fit_the_qr_budget() -> None:
    coded = slip_token.encode(claims(tuple(ItemLine(c, 12) for c in CODES)), KEY)
    named = slip_token.encode(claims(tuple(ItemLine("红木大衣柜", 2, True) for _ in range(10))), KEY)
    for text in (coded, named):
        assert text.startswith("RS2:") and set(text) <= set(ALPHABET)
        assert len(text) <= slip_token.MAX_TOKEN_CHARS
    read = slip_token.verify(coded, RING, estate="GH", now=NOW)
    assert read.number == "GH-20261127-0042" and read.unit == "12-28B" and read.valid_until == UNTIL
    assert [(i.label, i.quantity) for i in read.items] == [(c, 12) for c in CODES]


def test_the_budget_is_the_largest_text_of_a_version_19_code_at_q() -> None:
    # Version 19 is 93 modules: 6 dots each on 576-dot (80 mm) paper.
    budget = "RS2:" + "A" * (slip_token.MAX_TOKEN_CHARS - 4)
    assert qr_version(budget) == 19 and 17 + 4 * 19 == 93 and 576 // 93 == 6
    assert qr_version(budget + "A") == 20


def test_four_long_chinese_names_now_make_a_token_the_printer_takes() -> None:
    # Before: four 16-character free-text names made a 374-character byte-mode token, over the printer's 350.
    items = tuple(ItemLine("红木雕花大衣柜带穿衣镜和抽屉柜子", 1, True) for _ in range(4))
    text = slip_token.encode(claims(items), KEY)
    assert slip_token.token_fits(items)
    assert qr_version(text) <= 14 and slip_token.verify(text, RING, estate="GH", now=NOW).items == items


def test_token_fits_refuses_what_no_slip_could_print_at_full_size() -> None:
    long_name = "红木雕花大衣柜带穿衣镜和抽屉柜子"
    assert slip_token.token_fits([ItemLine(long_name, 99, True)] * 9 + [ItemLine("SOFA", 1)])
    assert not slip_token.token_fits([ItemLine(long_name, 99, True)] * 10)
    assert not slip_token.token_fits([])
    assert not slip_token.token_fits([ItemLine("BOX", 1)] * 11)
    assert not slip_token.token_fits([ItemLine("x" * 49, 1, True)])


def worst_header(items: tuple[ItemLine, ...]) -> SlipClaims:
    """The longest header a slip can have: 8-letter estate, 16-byte unit, large key id and sequence."""
    return SlipClaims(0xFFFF, "ABCDEFGH", date(2026, 11, 27), 0xFFFF, "栋" * 5 + "X", UNTIL + timedelta(days=60), items)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(
        st.one_of(
            st.builds(ItemLine, st.sampled_from(CODES), st.integers(1, 9999)),
            st.builds(ItemLine, st.text(min_size=1, max_size=16), st.integers(1, 999), st.just(True)),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_token_fits_is_true_only_for_tokens_within_the_budget(items: list[ItemLine]) -> None:
    if not slip_token.token_fits(items):
        return
    text = slip_token.encode(worst_header(tuple(items)), KEY)
    assert len(text) <= slip_token.MAX_TOKEN_CHARS and qr_version(text) <= 19


LEGACY_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
# Printed by the version-1 codec (RS1: + base64url), as on slips already in residents' hands.
LEGACY_TOKEN = (
    "RS1:AQADAkdIBjEyLTI4QiZjACprCaj_AwRTT0ZBAYnml6fkuabmnrYCA0JPWAzHuatpe27CCqeQ22e61fy_0do3ao88N6UU_0uzzPauCaIm"
    "aXj9Po3n0GVvslwlnHjJBmcH4YHgKswVyIAYNH8D"
)


def test_slips_printed_with_the_version_1_format_still_verify() -> None:
    read = slip_token.verify(LEGACY_TOKEN, {3: LEGACY_KEY.public_key()}, estate="GH", now=NOW)
    assert read.number == "GH-20261127-0042" and read.valid_until == UNTIL
    assert read.items == (ItemLine("SOFA", 1), ItemLine("旧书架", 2, True), ItemLine("BOX", 12))
    flipped = LEGACY_TOKEN[:-1] + ("E" if LEGACY_TOKEN[-1] != "E" else "I")
    with pytest.raises(TokenError) as err:
        slip_token.verify(flipped, {3: LEGACY_KEY.public_key()}, estate="GH", now=NOW)
    assert err.value.code in {"malformed", "bad_signature"}


def test_base45_matches_rfc_9285_examples() -> None:
    for raw, text in ((b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")):
        assert b45encode(raw) == text and b45decode(text) == raw
    for bad in ("GGW", "A", "ab", "BB8A", ":::", "U:"):
        with pytest.raises(ValueError):
            b45decode(bad)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=500))
def test_base45_round_trips_within_the_qr_alphanumeric_set(raw: bytes) -> None:
    text = b45encode(raw)
    assert b45decode(text) == raw and set(text) <= set(ALPHABET)
    assert not text.endswith(" ")  # so a reader that strips the scanned text loses nothing


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=60))
def test_base45_reads_each_byte_string_from_one_text_only(text: str) -> None:
    try:
        raw = b45decode(text)
    except ValueError:
        return
    assert b45encode(raw) == text


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
        st.binary(max_size=300).map(lambda b: "RS2:" + b45encode(b)),
        st.binary(max_size=300).map(lambda b: "RS2:" + b45encode(bytes([2]) + b)),
        st.text(alphabet=ALPHABET, max_size=600).map(lambda t: "RS2:" + t),
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
