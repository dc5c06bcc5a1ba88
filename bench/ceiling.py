"""The ceiling: the most trivial ASGI app on the same server stack (uvicorn, httptools, uvloop) as ecsim."""

from __future__ import annotations

BODY = b'{"server": {"id": "00000000-0000-0000-0000-000000000000", "status": "ACTIVE"}}'
HEADERS = [(b"content-type", b"application/json")]


async def app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
