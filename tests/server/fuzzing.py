"""What the API fuzz and the console fuzz share: a server error found and not fixed yet (`Known`), kept as the
smallest request that shows it, and the kinds of input that show such errors, which the fuzzing steers around
while the error stands (else every run would find it again instead of something new)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

BOTH = ("sqlite", "postgresql")
INTEGER_MAX = 2**31 - 1  # PostgreSQL's INTEGER; SQLite's goes to 2**63 - 1


def backend_of(database_url: str) -> str:
    return database_url.split(":")[0].split("+")[0]


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def has_nul(sent: Any) -> bool:
    return any("\x00" in s or "%00" in s for s in _leaves(sent))


def calendar_edge(sent: Any) -> bool:
    return any(s.startswith(("0001-", "9999-")) for s in _leaves(sent))


def beyond_integer(sent: Any) -> bool:
    for s in _leaves(sent):
        try:
            if abs(int(s)) > INTEGER_MAX:
                return True
        except ValueError:
            continue
    return False


@dataclass(frozen=True)
class Known:
    """A server error not fixed yet: on `route` ("METHOD /path/{template}"), the request `method url` with `json`
    or `form` ends in a 5xx on `backends`; `steer_clear` tells the inputs of that kind."""

    defect: str
    route: str
    url: str
    steer_clear: Callable[[Any], bool]
    backends: tuple[str, ...] = BOTH
    json: Any = None
    form: dict[str, str] | None = None

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]


def clear_of(known: list[Known], route: str, backend: str) -> Callable[[Any], bool]:
    """True for what the fuzzing of `route` may send: nothing of a kind a known error stands for."""
    standing = [k.steer_clear for k in known if k.route == route and backend in k.backends]
    return lambda sent: not any(steer(sent) for steer in standing)
