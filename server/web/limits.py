"""How large a request body may be, per route: anything larger is answered 413 before it is read (the declared
Content-Length is checked first, and the bytes of a streamed body are counted as they come)."""

from __future__ import annotations

from server.domain.slips.eligibility import MAX_ID_IMAGE
from server.domain.slips.gate.releases import MAX_PHOTO

KIB = 1024
MAX_UPLOAD = 5 * KIB * KIB  # a resident sheet to import
DEFAULT_BODY = 64 * KIB  # every form and JSON body not named below
CABINET_EVENTS_BODY = 256 * KIB  # up to 200 door and key events
GATE_SYNC_BODY = 2 * KIB * KIB  # up to 500 offline events
GATE_RELEASE_BODY = MAX_PHOTO * 4 // 3 + 64 * KIB  # the guard's photo, base64
ID_IMAGE_BODY = MAX_ID_IMAGE + 64 * KIB  # a proxy's ID copy, multipart
IMPORT_BODY = MAX_UPLOAD + 64 * KIB  # the resident sheet: the largest
