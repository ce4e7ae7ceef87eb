"""What can go wrong on a cabinet line, each as its own exception so callers can react precisely."""

from __future__ import annotations


class CabinetError(Exception):
    """Base of every key-cabinet error."""


class CabinetUrlError(CabinetError, ValueError):
    """A cabinet address that is not one of the accepted URL forms."""


class LineDown(CabinetError):
    """The serial line or network bridge is gone (unplugged, closed, refused).

    `maybe_sent`: the request may have reached the wire before the line failed.
    """

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class LineBusy(LineDown):
    """Another program holds the line; the message names it."""


class NoReply(CabinetError):
    """The board said nothing before the reply timeout."""


class Preempted(CabinetError):
    """A wait on a silent board was given up for an unlock waiting to go out."""


class FrameError(CabinetError):
    """Bytes came back, but no valid reply frame among them (garbage, bad checksum, wrong board)."""


class RequestIdConflict(CabinetError, ValueError):
    """One unlock request id used for two different targets."""
