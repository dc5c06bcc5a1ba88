"""Errors raised by domain rules. Each API family maps a `reason` to its own status, code and message."""


class DomainError(Exception):
    """A rule refused the request. `reason` is a stable key the API families translate."""

    reason = "invalid"

    def __init__(self, message: str, *, reason: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.details = details


class InvalidInput(DomainError):
    reason = "invalid"


class NotFound(DomainError):
    reason = "not_found"

    def __init__(self, kind: str, ident: str, message: str | None = None, **details: object) -> None:
        super().__init__(message or f"{kind} {ident} could not be found.", kind=kind, id=ident, **details)
        self.kind = kind
        self.ident = ident


class StateConflict(DomainError):
    """The resource is not in a state that allows the action (ECS: 400 Ecs.0100; Nova: 409)."""

    reason = "state"

    def __init__(self, kind: str, ident: str, action: str, attr: str, state: object) -> None:
        super().__init__(
            f"Cannot '{action}' {kind} {ident} while it is in {attr} {state}",
            kind=kind, id=ident, action=action, attr=attr, state=state,
        )


class QuotaExceeded(DomainError):
    reason = "quota"


class Conflict(DomainError):
    """A uniqueness or concurrency conflict (duplicate name, lost race)."""

    reason = "conflict"
