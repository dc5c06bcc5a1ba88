"""Glance v2, read-only, under /image: the images IMS serves (public and the project's private ones) in Glance's
shapes, so that OpenStack tools resolve image names and ids (`openstack server create --image NAME`,
openstacksdk's `find_image`). Uploads and image writes are not served."""

from __future__ import annotations

from ecsim.api.ims import image_view, page
from ecsim.domain.errors import NotFound
from ecsim.http.context import Ctx, Response, json_response


def versions(ctx: Ctx) -> Response:
    """GET /image/ -> 300 with the v2 version (what keystoneauth discovers)."""
    href = ctx.rt.config.base_url() + ctx.prefix + "/v2/"
    return json_response(300, {"versions": [{"id": "v2.16", "status": "CURRENT",
                                             "links": [{"rel": "self", "href": href}]}]})


def list_images(ctx: Ctx) -> Response:
    """GET /image/v2/images -> {"images", "schema", "first"[, "next"]}."""
    views, more = page(ctx, glance=True)
    body: dict = {"images": views, "schema": "/v2/schemas/images", "first": "/v2/images"}
    if more:
        body["next"] = f"/v2/images?marker={views[-1]['id']}"
    return json_response(200, body)


def show_image(ctx: Ctx) -> Response:
    image_id = ctx.params["image_id"]
    image = ctx.rt.image(ctx.project, image_id)
    if image is None:
        raise NotFound("image", image_id, f"No image found with ID {image_id}")
    return json_response(200, image_view(image))
