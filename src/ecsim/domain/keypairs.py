"""SSH key pairs (Nova os-keypairs): names, fingerprints, and keys generated or imported. Pure functions; the
services layer stores key pairs per user."""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ecsim.domain.errors import InvalidInput

NAME_RE = re.compile(r"^[\w\- ]{1,255}$")  # Nova: letters, digits, underscore, hyphen and space


def check_name(name: str) -> None:
    if not NAME_RE.match(name) or name != name.strip():
        raise InvalidInput("Keypair data is invalid: Keypair name contains unsafe characters or is not 1 to 255 "
                           "characters long")


def fingerprint(public_key: str) -> str:
    """Nova's fingerprint: the MD5 of the key blob, as colon-separated hex."""
    try:
        blob = base64.b64decode(public_key.split()[1])
    except (IndexError, ValueError) as exc:
        raise InvalidInput("Keypair data is invalid: failed to generate fingerprint") from exc
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def check_public_key(public_key: str) -> str:
    """The OpenSSH public key, stripped; 400 for anything that does not parse."""
    text = public_key.strip()
    try:
        serialization.load_ssh_public_key(text.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # the last: a key type it does not know
        raise InvalidInput("Keypair data is invalid: failed to generate fingerprint") from exc
    return text


def generate() -> tuple[str, str]:
    """(public key, private key PEM): an RSA 2048 pair, as Nova generates one when no public key is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return public + " Generated-by-Nova", private
