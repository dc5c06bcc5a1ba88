"""Identifier formats used by the real services."""

import os
import uuid


def new_uuid() -> str:
    """Server, volume, group, port ids: canonical UUID4 strings."""
    return str(uuid.uuid4())


def new_hex32() -> str:
    """Project, user, domain, job ids: 32 lowercase hex characters."""
    return os.urandom(16).hex()


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError, TypeError):
        return False
