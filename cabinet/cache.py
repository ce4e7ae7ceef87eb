"""What the agent downloaded from the server (the staff roster, the waiting unlocks), kept on disk with its ETag: the
next download asks only for changes, and after a restart without the network the agent still has the last copy."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


class Cached(Generic[M]):
    """One server document in a JSON file: {"etag", "fetched_at", "body"}. Written whole to a new file that then
    replaces the old one, so a power cut leaves the old copy or the new one, never half of one."""

    def __init__(self, path: Path, model: type[M]) -> None:
        self.path = path
        self.model = model
        self.value: M | None = None
        self.etag: str | None = None
        self.fetched_at: datetime | None = None
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            value = self.model.model_validate(kept["body"])
            fetched_at = datetime.fromisoformat(kept["fetched_at"])
            etag = kept.get("etag")
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            log.warning("%s cannot be read (%s); it is fetched again from the server", self.path.name, exc)
            return
        self.value, self.etag, self.fetched_at = value, etag if isinstance(etag, str) else None, fetched_at

    def save(self, value: M, etag: str | None, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        text = json.dumps(
            {"etag": etag, "fetched_at": now.isoformat(), "body": value.model_dump(mode="json")}, ensure_ascii=False
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = self.path.with_name(self.path.name + ".new")
            # Readable by the agent's user alone: the roster holds credential hashes.
            with open(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(fresh, self.path)
            self.value, self.etag, self.fetched_at = value, etag, now

    def checked(self, now: datetime | None = None) -> None:
        """The server said the copy is current (304)."""
        self.fetched_at = now or datetime.now(UTC)
