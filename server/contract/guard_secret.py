"""Guards' PIN and card secrets as salted scrypt hashes, checked by the server and by an offline gate alike.

Why scrypt from the standard library and not argon2 (the console's passwords): a gate signs guards in while the
network is down, so it must check the same hash the server stores, and a gate machine installs only the
`[gate]` extras (no argon2-cffi). scrypt is memory-hard like argon2 and needs no extra dependency.

Format: ``scrypt$<n>$<r>$<p>$<salt b64url>$<digest b64url>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 32 MiB and about a tenth of a second a try: a gate checks a few guards at sign-in, while trying every 6-digit PIN
# against a roster taken from a gate costs days. Older hashes keep their own parameters and still verify.
N, R, P = 2**15, 8, 1
_DIGEST_BYTES = 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.strip().encode(), salt=salt, n=n, r=r, p=p, dklen=_DIGEST_BYTES, maxmem=128 * 2**20)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_digest(secret, salt, N, R, P))}"


def at_full_cost(stored: str) -> bool:
    """True when `stored` was made at today's cost (N·r) or more. A PIN hashed at a lower cost was set under the
    older rule that allowed 4 digits: recovered from a roster in minutes, so it is no longer handed out."""
    try:
        scheme, n, r, _p, _salt, _digest = stored.split("$")
        return scheme == "scrypt" and int(n) * int(r) >= N * R
    except ValueError:
        return False


def verify_secret(stored: str, secret: str) -> bool:
    """True when `secret` is the one `stored` was made from; False for any other secret or a damaged hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        return hmac.compare_digest(_digest(secret, _unb64(salt), int(n), int(r), int(p)), _unb64(digest))
    except (ValueError, TypeError):
        return False
