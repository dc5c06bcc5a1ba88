"""GET /v1/{project_id}/jobs/{job_id}: the real job schema, sub-jobs per server, computed from timestamps."""

from __future__ import annotations

from ecsim.http.context import Ctx, Response, json_response
from ecsim.services import compute


def show_job(ctx: Ctx) -> Response:
    return json_response(200, compute.show_job(ctx.rt, ctx.project, ctx.params["job_id"], ctx.now))
