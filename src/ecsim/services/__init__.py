"""Use cases over the store, shared by every API face."""
