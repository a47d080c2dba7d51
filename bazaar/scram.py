"""SCRAM-SHA-256 verifiers (RFC 5802 / RFC 7677) as PostgreSQL stores them in pg_authid.

The stack hands the same verifier to PostgreSQL (``ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'``) and to
PgBouncer's auth_file, so PgBouncer can check a client and then log in to the server with that
client's keys. Computing it here, with a salt we keep, makes ``bazaar up`` idempotent: an existing
verifier that matches the password is left alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 4096  # PostgreSQL's default scram_iterations


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def verifier(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` for PASSWORD."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def matches(stored: str | None, password: str) -> bool:
    """True when STORED is a SCRAM-SHA-256 verifier of PASSWORD."""
    if not stored or not stored.startswith("SCRAM-SHA-256$"):
        return False
    try:
        iterations_salt = stored.split("$")[1]
        iterations, salt = iterations_salt.split(":")
        expected = verifier(password, base64.b64decode(salt), int(iterations))
    except (IndexError, ValueError):
        return False
    return hmac.compare_digest(expected, stored)
