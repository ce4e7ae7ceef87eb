"""How large a request body may be, per route: anything larger is answered 413 before it is read (the declared
Content-Length is checked first, and the bytes of a streamed body are counted as they come)."""

from __future__ import annotations

from server.domain.lifecycle.move_in_scans import MAX_SCAN_BYTES, MAX_SCANS_PER_POST
from server.domain.service.signatures import MAX_DATA_URL
from server.domain.slips.eligibility import MAX_ID_IMAGE
from server.domain.slips.gate.releases import MAX_PHOTO
from server.domain.slips.paper import MAX_SIGNATURE_B64

KIB = 1024
MAX_UPLOAD = 5 * KIB * KIB  # a resident sheet to import
DEFAULT_BODY = 64 * KIB  # every form and JSON body not named below
CABINET_EVENTS_BODY = 256 * KIB  # up to 200 door and key events
GATE_SYNC_BODY = 2 * KIB * KIB  # up to 500 offline events
GATE_RELEASE_BODY = MAX_PHOTO * 4 // 3 + 64 * KIB  # the guard's photo, base64
ID_IMAGE_BODY = MAX_ID_IMAGE + 64 * KIB  # a proxy's ID copy, multipart
SIGNATURE_BODY = MAX_DATA_URL + 64 * KIB  # a finished order with the resident's signature from the pad
SLIP_REQUEST_BODY = MAX_SIGNATURE_B64 + 64 * KIB  # a kiosk's slip request with the applicant's signature
SLIP_FORM_BODY = ID_IMAGE_BODY + MAX_SIGNATURE_B64  # the console's slip form: the proxy's ID copy and a signature
MOVE_IN_SCAN_BODY = MAX_SCANS_PER_POST * MAX_SCAN_BYTES + 64 * KIB  # scans taken at the move-in desk: the largest
IMPORT_BODY = MAX_UPLOAD + 64 * KIB  # the resident sheet
