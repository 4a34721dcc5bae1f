"""Keyed-HMAC pseudonyms for person references (never stored as sent)."""

from __future__ import annotations

import hashlib
import hmac

from ims_indicators import settings

PREFIX = "p_"
LENGTH = 24  # hex characters kept of the HMAC-SHA256


def pseudonym(value: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of a person reference under the project key (the same value always gives the same pseudonym)."""
    digest = hmac.new(key or settings.pseudonym_key(), value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:LENGTH]


def hmac_sql(column: str) -> tuple[str, dict[str, bytes]]:
    """The same HMAC as a DuckDB expression over ``column`` (vectorised), with its bound parameters. ``column``
    holds trimmed text, as the typed rows do (read/typed.py): trimming again cost 4 % of the HMAC."""
    key = settings.pseudonym_key()
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    params = {"hmac_ipad": bytes(b ^ 0x36 for b in block), "hmac_opad": bytes(b ^ 0x5C for b in block)}
    expr = (f"CASE WHEN {column} IS NULL THEN NULL ELSE '{PREFIX}' || left(sha256($hmac_opad || "
            f"unhex(sha256($hmac_ipad || encode({column})))), {LENGTH}) END")
    return expr, params
