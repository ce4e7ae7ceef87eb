"""Codec tests: the issue's example frames, a table of others with checksums worked out by hand, and properties."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.cabinet.codec import Ack, BoardStatus, KerongCodec, XorCodec, bcc, codec_for, sum8
from devices.cabinet.errors import FrameError, NoReply
from devices.cabinet.profiles import KERONG_CU16, XOR485, BoardProfile, Checksum, Feedback, StatusOrder

XOR = XorCodec(BoardProfile.default("xor485"))
KERONG = KerongCodec(BoardProfile.default("kerong-cu16"))


def test_kerong_examples_from_the_issue() -> None:
    assert KERONG.unlock(0, 1).frame == bytes.fromhex("02 00 31 03 36")
    assert KERONG.query(0).frame == bytes.fromhex("02 00 30 03 35")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: XOR.unlock(1, 1), "8a 01 01 11 9b"),
        (lambda: XOR.unlock(1, 12), "8a 01 0c 11 96"),
        (lambda: XorCodec(BoardProfile.default("xor485", channels=50)).unlock(31, 50), "8a 1f 32 11 b6"),
        (lambda: XOR.open_all(2), "8a 02 00 11 99"),
        (lambda: XOR.query_one(1, 1), "80 01 01 33 b3"),
        (lambda: XOR.query(1), "80 01 00 33 b2"),
        (lambda: XOR.query(31), "80 1f 00 33 ac"),
        (lambda: XOR.batch(1, [1, 3]), "90 01 00 00 05 94"),
        (lambda: KERONG.unlock(0, 6), "02 05 31 03 3b"),
        (lambda: KERONG.unlock(1, 16), "02 1f 31 03 55"),
        (lambda: KERONG.query(15), "02 f0 30 03 25"),
        (lambda: KERONG.query(1), "02 10 30 03 45"),
    ],
)
def test_request_frames(make, expected: str) -> None:
    assert make().frame == bytes.fromhex(expected)


def test_checksums() -> None:
    assert bcc(bytes.fromhex("8a 01 01 11")) == 0x9B
    assert sum8(bytes.fromhex("02 f0 30 03")) == 0x25


def test_xor_board_status_highest_group_first() -> None:
    # 24 channels: S3 (17-24), S2 (9-16), S1 (1-8); door-closing contact, so a set bit is a closed door.
    # Closed: 1, 9, 24 -> S1 = 01, S2 = 01, S3 = 80. BCC = 80^01^80^01^01^33 = 32.
    reply = bytes.fromhex("80 01 80 01 01 33 32")
    status = XOR.find_reply(XOR.query(1), reply, final=False)
    assert isinstance(status, BoardStatus)
    closed = [i + 1 for i, is_open in enumerate(status.doors_open) if not is_open]
    assert closed == [1, 9, 24]


def test_xor_unlock_reply_is_an_ack() -> None:
    reply = XOR.find_reply(XOR.unlock(1, 1), bytes.fromhex("8a 01 01 11 9b"), final=False)
    assert reply == Ack(1, 1, 0x11)


def test_kerong_status_reply() -> None:
    # Door-opening contact: lock bits set = open. L1-8 = 05 (slots 1, 3), L9-16 = 80 (slot 16), IR1-8 = 02.
    body = bytes.fromhex("02 00 35 05 80 02 00 03")
    frame = body + bytes([sum(body) & 0xFF])
    status = KERONG.find_reply(KERONG.query(0), frame, final=False)
    assert isinstance(status, BoardStatus)
    assert [i + 1 for i, v in enumerate(status.doors_open) if v] == [1, 3, 16]
    assert status.presence is not None
    assert [i + 1 for i, v in enumerate(status.presence) if v] == [2]


def test_reply_from_another_board_is_not_taken() -> None:
    other = XOR.status_reply(2, [False] * 24, [])
    with pytest.raises(FrameError, match="no valid reply"):
        XOR.find_reply(XOR.query(1), other, final=True)
    other_kerong = KERONG.status_reply(3, [False] * 16, [False] * 16)
    with pytest.raises(FrameError):
        KERONG.find_reply(KERONG.query(2), other_kerong, final=True)


def test_bad_checksum_and_silence_are_named() -> None:
    good = XOR.status_reply(1, [False] * 24, [])
    with pytest.raises(FrameError, match="bad checksum"):
        XOR.find_reply(XOR.query(1), good[:-1] + bytes([good[-1] ^ 1]), final=True)
    with pytest.raises(NoReply):
        XOR.find_reply(XOR.query(1), b"", final=True)


def test_unknown_channel_count_waits_for_the_quiet_period() -> None:
    codec = XorCodec(BoardProfile.default("xor485", channels=None))
    reply = codec.status_reply(1, [True] + [False] * 15, [])
    assert codec.find_reply(codec.query(1), reply, final=False) is None
    status = codec.find_reply(codec.query(1), reply, final=True)
    assert isinstance(status, BoardStatus) and len(status.doors_open) == 16 and status.doors_open[0]


def test_board_side_parses_requests_after_garbage() -> None:
    request, used = XOR.parse_request(b"\x00\xff" + XOR.unlock(1, 5).frame + b"\x80")
    assert request is not None and request.kind == "unlock" and request.slot == 5 and used == 7
    request, _ = KERONG.parse_request(KERONG.unlock(2, 3).frame)
    assert request is not None and (request.board, request.slot) == (2, 3)


profiles = st.builds(
    lambda protocol, channels, feedback, order: BoardProfile.default(
        protocol,
        channels=min(channels, 16) if protocol == "kerong-cu16" else channels,
        feedback=feedback,
        order=order,
    ),
    st.sampled_from(["xor485", "kerong-cu16"]),
    st.integers(1, 50),
    st.sampled_from(list(Feedback)),
    st.sampled_from(list(StatusOrder)),
)


def _codec(profile: BoardProfile) -> XorCodec | KerongCodec:
    return XorCodec(profile) if profile.protocol.name == "xor485" else KerongCodec(profile)


@given(profile=profiles, data=st.data())
def test_status_round_trip(profile: BoardProfile, data: st.DataObject) -> None:
    codec = _codec(profile)
    board = data.draw(st.sampled_from(list(profile.protocol.addresses)))
    channels = profile.channels or 8
    doors = data.draw(st.lists(st.booleans(), min_size=channels, max_size=channels))
    presence = data.draw(st.lists(st.booleans(), min_size=channels, max_size=channels))
    reply = codec.find_reply(codec.query(board), codec.status_reply(board, doors, presence), final=False)
    assert isinstance(reply, BoardStatus)
    assert reply.board == board and list(reply.doors_open) == doors
    if isinstance(codec, KerongCodec):
        assert reply.presence is not None and list(reply.presence) == presence


@given(
    profile=profiles,
    garbage=st.binary(max_size=40),
    cuts=st.lists(st.integers(0, 60), max_size=5),
    doors_seed=st.integers(0, (1 << 50) - 1),
)
def test_splitter_finds_the_frame_through_garbage_and_any_split(
    profile: BoardProfile, garbage: bytes, cuts: list[int], doors_seed: int
) -> None:
    codec = _codec(profile)
    board = profile.protocol.addresses[0]
    request = codec.query(board)
    channels = profile.channels or 8
    doors = [bool(doors_seed >> i & 1) for i in range(channels)]
    frame = codec.status_reply(board, doors, [False] * channels)
    # Garbage that holds no reply header, as a line's noise before the board speaks.
    garbage = garbage.replace(codec.reply_header(request)[:1], b"")
    stream = garbage + frame
    buf = bytearray()
    found = None
    for piece in _split(stream, cuts):
        buf += piece
        found = codec.find_reply(request, buf, final=False)
        if found is not None:
            break
    assert isinstance(found, BoardStatus) and list(found.doors_open) == doors
    assert len(buf) == len(stream)  # never complete before the last byte of the frame


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(noise=st.binary(max_size=64))
def test_random_noise_never_passes_for_a_reply_from_another_board(noise: bytes) -> None:
    request = XOR.query(1)
    try:
        reply = XOR.find_reply(request, noise, final=True)
    except (FrameError, NoReply):
        return
    assert isinstance(reply, BoardStatus)
    # Found only in a frame that starts with board 1's query header and whose checksum holds.
    header = request.frame[:2]
    starts = [i for i in range(len(noise) - 1) if noise[i : i + 2] == header]
    assert any(bcc(noise[i : i + n]) == 0 for i in starts for n in range(5, len(noise) - i + 1))


def test_the_codec_is_the_one_the_protocol_names_not_its_checksums() -> None:
    # A new family with Kerong-style frames but an XOR checksum, and one the other way round.
    xor_kerong = replace(KERONG_CU16, name="xor-kerong", checksum=Checksum.XOR)
    sum_xor = replace(XOR485, name="sum-485", checksum=Checksum.SUM)
    assert type(codec_for(BoardProfile.default(xor_kerong))) is KerongCodec
    assert type(codec_for(BoardProfile.default(sum_xor))) is XorCodec
    assert type(codec_for(BoardProfile.default("xor485"))) is XorCodec
    assert type(codec_for(BoardProfile.default("kerong-cu16"))) is KerongCodec
