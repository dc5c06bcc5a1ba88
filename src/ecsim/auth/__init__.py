"""Authentication: Keystone-style tokens and AK/SK signatures, resolved to a Principal."""
