"""The catalog's entries, grouped by API family.

`source` says where each entry's IAM actions come from: `seed:NNN` rows are exactly those of
shared/seeds/permissions.csv (tests compare them row by row); `table:<svc>` rows come from Huawei's published
permission tables for that service (docs/catalog.md cites them).
"""

from __future__ import annotations

from ecsim.catalog import Operation

OPERATIONS: list[Operation] = []
# OpenStack-native APIs are authorized on the IAM project only, never through an enterprise project grant
# (shared/spec/iam.md, Summary 5).
NATIVE = ("nova", "cinder")
# Names under a path that are the real API's other resources, never ids (hw_sdk_endpoints.txt): unserved, they are
# 404 rather than "server <name> not found".
RESERVED = {
    "/v1/{project_id}/cloudservers": frozenset({
        "actions", "batch-resize", "flavor-sell-policies", "nics", "os-reset-passwords", "resource_instances",
        "tags"}),
}


def op(name: str, family: str, method: str, path: str, actions: str | tuple[str, ...], **kw: object) -> Operation:
    if isinstance(actions, str):
        actions = tuple(a for a in actions.split(";") if a)
    deps = kw.pop("dependencies", ())
    if isinstance(deps, str):
        deps = tuple(d for d in deps.split(";") if d)
    kw.setdefault("enterprise_project", family not in NATIVE)
    sdk = kw.pop("sdk", ())
    if isinstance(sdk, str):
        sdk = (sdk,)
    entry = Operation(name, family, method, path, actions, dependencies=deps, sdk=sdk, **kw)  # type: ignore[arg-type]
    OPERATIONS.append(entry)
    return entry


def twins(prefixes: tuple[str, ...], name: str, family: str, method: str, path: str, actions: str,
          **kw: object) -> None:
    """The same operation under several version prefixes (Nova /v2 and /v2.1, Cinder /v2 and /v3)."""
    for prefix in prefixes:
        tag = prefix.strip("/").replace(".", "")
        op(f"{name}.{tag}", family, method, prefix + path, actions, **kw)


# ---------------------------------------------------------------------------------------------------------------
# Huawei ECS (v1 / v1.1 / v2)
# ---------------------------------------------------------------------------------------------------------------
ECS = "ecsim.api.ecs"
DISKS = "ecsim.api.ecs_disks"
ACTIONS = "ecsim.api.ecs_actions"
GROUPS = "ecsim.api.ecs_groups"
JOBS = "ecsim.api.jobs"

op("ecs.create_post_paid_servers", "ecs", "POST", "/v1/{project_id}/cloudservers", "ecs:cloudServers:create",
   title="Creating ECSs (pay-per-use)", source="table:ecs", handler=f"{ECS}:create_servers",
   access_level="write", sdk="create_post_paid_servers", request_tags="server.server_tags",
   request_ep="server.extendparam.enterprise_project_id")
op("ecs.create_servers", "ecs", "POST", "/v1.1/{project_id}/cloudservers", "ecs:cloudServers:create",
   title="Creating ECSs", source="table:ecs", handler=f"{ECS}:create_servers_v11", access_level="write",
   sdk="create_servers", request_tags="server.server_tags",
   request_ep="server.extendparam.enterprise_project_id")
op("ecs.list_servers_details", "ecs", "GET", "/v1/{project_id}/cloudservers/detail", "ecs:cloudServers:list",
   title="Querying details about ECSs", source="table:ecs", handler=f"{ECS}:list_servers_details",
   access_level="list", sdk="list_servers_details")
op("ecs.list_cloud_servers", "ecs", "GET", "/v1.1/{project_id}/cloudservers/detail", "ecs:cloudServers:list",
   title="Querying ECSs (marker paging)", source="table:ecs", handler=f"{ECS}:list_cloud_servers",
   access_level="list", sdk="list_cloud_servers")
op("ecs.show_server", "ecs", "GET", "/v1/{project_id}/cloudservers/{server_id}", "ecs:cloudServers:get",
   title="Querying details about an ECS", source="table:ecs", handler=f"{ECS}:show_server",
   resource_type="instance", resource_from="path:server_id", access_level="read", sdk="show_server")
op("ecs.update_server", "ecs", "PUT", "/v1/{project_id}/cloudservers/{server_id}", "ecs:cloudServers:put",
   title="Modifying an ECS", source="table:ecs", handler=f"{ECS}:update_server",
   resource_type="instance", resource_from="path:server_id", access_level="write", sdk="update_server")
op("ecs.delete_servers", "ecs", "POST", "/v1/{project_id}/cloudservers/delete", "ecs:cloudServers:delete",
   title="Deleting ECSs", source="table:ecs", handler=f"{ECS}:delete_servers",
   resource_type="instance", resource_from="body:servers[].id", access_level="write", sdk="delete_servers")
op("ecs.batch_stop_servers", "ecs", "POST", "/v1/{project_id}/cloudservers/action", "ecs:cloudServers:stop",
   selector="os-stop", title="Stopping ECSs in a batch", source="seed:000", handler=f"{ECS}:batch_stop",
   resource_type="instance", resource_from="body:os-stop.servers[].id", access_level="write",
   sdk="batch_stop_servers")
op("ecs.batch_reboot_servers", "ecs", "POST", "/v1/{project_id}/cloudservers/action", "ecs:cloudServers:reboot",
   selector="reboot", title="Restarting ECSs in a batch", source="seed:000", handler=f"{ECS}:batch_reboot",
   resource_type="instance", resource_from="body:reboot.servers[].id", access_level="write",
   sdk="batch_reboot_servers")
op("ecs.batch_start_servers", "ecs", "POST", "/v1/{project_id}/cloudservers/action", "ecs:cloudServers:start",
   selector="os-start", title="Starting ECSs in a batch", source="seed:000", handler=f"{ECS}:batch_start",
   resource_type="instance", resource_from="body:os-start.servers[].id", access_level="write",
   sdk="batch_start_servers")
op("ecs.batch_update_servers_name", "ecs", "PUT", "/v1/{project_id}/cloudservers/server-name",
   "ecs:cloudServers:put", title="Modifying ECSs in a batch (batch rename)", source="seed:000",
   handler=f"{ECS}:batch_rename", resource_type="instance", resource_from="body:servers[].id",
   access_level="write", sdk="batch_update_servers_name")
op("ecs.batch_attach_sharable_volumes", "ecs", "POST", "/v1/{project_id}/batchaction/attachvolumes/{volume_id}",
   "ecs:cloudServers:attachSharedVolume", dependencies="evs:volumes:use",
   title="Attaching a shared EVS disk to multiple ECSs in a batch", source="seed:000",
   handler=f"{DISKS}:batch_attach", resource_type="instance", resource_from="body:serverinfo[].server_id",
   access_level="write", sdk="batch_attach_sharable_volumes")
op("ecs.attach_server_volume", "ecs", "POST", "/v1/{project_id}/cloudservers/{server_id}/attachvolume",
   "ecs:cloudServers:attach", dependencies="evs:volumes:use", title="Attaching an EVS disk to an ECS",
   source="table:ecs", handler=f"{DISKS}:attach_volume", resource_type="instance", resource_from="path:server_id",
   access_level="write", sdk="attach_server_volume")
op("ecs.detach_server_volume", "ecs", "DELETE",
   "/v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}", "ecs:cloudServers:detachVolume",
   title="Detaching an EVS disk from an ECS", source="table:ecs", handler=f"{DISKS}:detach_volume",
   resource_type="instance", resource_from="path:server_id", access_level="write", sdk="detach_server_volume")
op("ecs.list_server_block_devices", "ecs", "GET", "/v1/{project_id}/cloudservers/{server_id}/block_device",
   "ecs:cloudServers:get", title="Querying disks attached to an ECS", source="table:ecs",
   handler=f"{DISKS}:list_block_devices", resource_type="instance", resource_from="path:server_id",
   access_level="read", sdk="list_server_block_devices")
op("ecs.list_server_volume_attachments", "ecs", "GET",
   "/v1/{project_id}/cloudservers/{server_id}/os-volume_attachments", "ecs:cloudServers:get",
   title="Querying the disks attached to an ECS (Nova's shape)", source="table:ecs",
   handler=f"{DISKS}:list_volume_attachments", resource_type="instance", resource_from="path:server_id",
   access_level="read", sdk="list_server_volume_attachments")
op("ecs.show_server_block_device", "ecs", "GET",
   "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}", "ecs:cloudServers:get",
   title="Querying a disk attached to an ECS", source="table:ecs", handler=f"{DISKS}:show_block_device",
   resource_type="instance", resource_from="path:server_id", access_level="read", sdk="show_server_block_device")
op("ecs.change_server_os_with_cloud_init", "ecs", "POST", "/v2/{project_id}/cloudservers/{server_id}/changeos",
   "ecs:cloudServers:changeOS", title="Changing an ECS OS", source="seed:001", handler=f"{ACTIONS}:change_os",
   resource_type="instance", resource_from="path:server_id", access_level="write",
   sdk="change_server_os_with_cloud_init")
op("ecs.change_server_os_without_cloud_init", "ecs", "POST", "/v1/{project_id}/cloudservers/{server_id}/changeos",
   "ecs:cloudServers:changeOS", title="Changing an ECS OS (image without cloud-init)", source="table:ecs",
   handler=f"{ACTIONS}:change_os", resource_type="instance", resource_from="path:server_id", access_level="write",
   sdk="change_server_os_without_cloud_init")
op("ecs.reinstall_server_with_cloud_init", "ecs", "POST", "/v2/{project_id}/cloudservers/{server_id}/reinstallos",
   "ecs:cloudServers:rebuild", title="Reinstalling an ECS OS", source="seed:001", handler=f"{ACTIONS}:reinstall_os",
   resource_type="instance", resource_from="path:server_id", access_level="write",
   sdk="reinstall_server_with_cloud_init")
op("ecs.reinstall_server_without_cloud_init", "ecs", "POST",
   "/v1/{project_id}/cloudservers/{server_id}/reinstallos", "ecs:cloudServers:rebuild",
   title="Reinstalling an ECS OS (image without cloud-init)", source="table:ecs", handler=f"{ACTIONS}:reinstall_os",
   resource_type="instance", resource_from="path:server_id", access_level="write",
   sdk="reinstall_server_without_cloud_init")
op("ecs.resize_post_paid_server", "ecs", "POST", "/v1/{project_id}/cloudservers/{server_id}/resize",
   "ecs:cloudServers:resize", title="Modifying ECS specifications (pay-per-use)", source="seed:001",
   handler=f"{ACTIONS}:resize", resource_type="instance", resource_from="path:server_id", access_level="write",
   sdk="resize_post_paid_server")
op("ecs.resize_server", "ecs", "POST", "/v1.1/{project_id}/cloudservers/{server_id}/resize",
   "ecs:cloudServers:resize", title="Modifying ECS specifications", source="table:ecs", handler=f"{ACTIONS}:resize",
   resource_type="instance", resource_from="path:server_id", access_level="write", sdk="resize_server")
op("ecs.migrate_server", "ecs", "POST", "/v1/{project_id}/cloudservers/{server_id}/migrate",
   "ecs:cloudServers:migrate", title="Cold migrating an ECS", source="seed:001", handler=f"{ACTIONS}:migrate",
   resource_type="instance", resource_from="path:server_id", access_level="write", sdk="migrate_server")
op("ecs.batch_detach_volumes", "ecs", "POST", "/v1/{project_id}/batchaction/detachvolumes/{volume_id}",
   "ecs:cloudServers:detachVolume", title="Detaching volumes in a batch", source="seed:002",
   handler=f"{DISKS}:batch_detach", resource_type="instance", resource_from="body:serverinfo[]",
   access_level="write", sdk="batch_detach_volumes")
GROUP = "/v1/{project_id}/cloudservers/os-server-groups"
op("ecs.delete_server_group", "ecs", "DELETE", GROUP + "/{server_group_id}", "ecs:cloudServers:delete",
   aliases=(("ecs:cloudServers:delete", ("ecs:cloudServers:deleteServerGroup",)),),
   title="Deleting an ECS group", source="seed:004", handler=f"{GROUPS}:delete_group", access_level="write",
   sdk="delete_server_group")
op("ecs.create_server_group", "ecs", "POST", GROUP, "ecs:cloudServers:create",
   aliases=(("ecs:cloudServers:create", ("ecs:cloudServers:createServerGroup",)),),
   title="Creating an ECS group", source="seed:004", handler=f"{GROUPS}:create_group", access_level="write",
   sdk="create_server_group")
op("ecs.add_server_group_member", "ecs", "POST", GROUP + "/{server_group_id}/action", "ecs:cloudServers:create",
   aliases=(("ecs:cloudServers:create", ("ecs:cloudServers:addServerGroupMember",)),),
   selector="add_member", title="Adding an ECS to an ECS group", source="seed:004", handler=f"{GROUPS}:add_member",
   resource_type="instance", resource_from="body:add_member.instance_uuid", access_level="write",
   sdk="add_server_group_member")
op("ecs.delete_server_group_member", "ecs", "POST", GROUP + "/{server_group_id}/action", "ecs:cloudServers:delete",
   aliases=(("ecs:cloudServers:delete", ("ecs:cloudServers:deleteServerGroupMember",)),),
   selector="remove_member", title="Removing an ECS from an ECS group", source="seed:004",
   handler=f"{GROUPS}:remove_member", resource_type="instance", resource_from="body:remove_member.instance_uuid",
   access_level="write", sdk="delete_server_group_member")
op("ecs.list_server_groups", "ecs", "GET", GROUP, "ecs:cloudServers:list", title="Querying ECS groups",
   source="seed:004", handler=f"{GROUPS}:list_groups", access_level="list", sdk="list_server_groups")
op("ecs.show_server_group", "ecs", "GET", GROUP + "/{server_group_id}", "ecs:cloudServers:get",
   title="Querying details about an ECS group", source="seed:004", handler=f"{GROUPS}:show_group",
   access_level="read", sdk="show_server_group")
op("ecs.list_flavors", "ecs", "GET", "/v1/{project_id}/cloudservers/flavors", "ecs:cloudServerFlavors:get",
   title="Querying ECS flavors", source="table:ecs", handler=f"{ECS}:list_flavors", access_level="list",
   sdk="list_flavors")
op("ecs.list_resize_flavors", "ecs", "GET", "/v1/{project_id}/cloudservers/resize_flavors",
   "ecs:cloudServerFlavors:get", title="Querying the target flavors of a flavor change", source="table:ecs",
   handler=f"{ECS}:list_resize_flavors", access_level="list", sdk="list_resize_flavors")
ECS_TAGS = "ecsim.api.ecs_tags"
SERVER_KW = {"source": "table:ecs", "resource_type": "instance", "resource_from": "path:server_id"}
# The tables' current names, and the older ones (put / get) policies written before still use.
op("ecs.batch_server_tags", "ecs", "POST", "/v1/{project_id}/cloudservers/{server_id}/tags/action",
   "ecs:cloudServers:batchSetServerTags", title="Adding or deleting tags of an ECS in a batch",
   handler=f"{ECS_TAGS}:batch_tags", access_level="tagging",
   aliases=(("ecs:cloudServers:batchSetServerTags", ("ecs:cloudServers:put",)),),
   sdk=("batch_create_server_tags", "batch_delete_server_tags"), **SERVER_KW)
op("ecs.show_server_tags", "ecs", "GET", "/v1/{project_id}/cloudservers/{server_id}/tags",
   "ecs:cloudServers:showServerTags", title="Querying tags of an ECS", handler=f"{ECS_TAGS}:show_tags",
   access_level="list", aliases=(("ecs:cloudServers:showServerTags", ("ecs:cloudServers:get",)),),
   sdk="show_server_tags", **SERVER_KW)
op("ecs.list_server_tags", "ecs", "GET", "/v1/{project_id}/cloudservers/tags", "ecs:cloudServers:list",
   title="Querying project tags", source="table:ecs", handler=f"{ECS_TAGS}:project_tags", access_level="list",
   sdk="list_server_tags")
op("ecs.show_server_console_output", "ecs", "GET", "/v1/{project_id}/cloudservers/{server_id}/console-output",
   "ecs:cloudServers:getConsoleOutput", title="Querying the console log of an ECS",
   handler=f"{ACTIONS}:console_output", access_level="read", sdk="show_server_console_output", **SERVER_KW)
op("ecs.list_server_az_info", "ecs", "GET", "/v1/{project_id}/availability-zones", "ecs:cloudServers:list",
   title="Querying AZs", source="table:ecs", handler=f"{ECS}:list_az_info", access_level="list",
   sdk="list_server_az_info")
op("ecs.show_server_limits", "ecs", "GET", "/v1/{project_id}/cloudservers/limits", "ecs:cloudServerQuotas:get",
   title="Querying tenant quotas", source="table:ecs", handler=f"{ECS}:show_limits", access_level="read",
   sdk="show_server_limits")
# Polling a job needs no permission of its own: EVS's ShowJob says "no identity-policy permission is needed", ECS's
# names no action, and no permission table lists one (a user allowed only to stop servers can follow the stop).
op("ecs.show_job", "ecs", "GET", "/v1/{project_id}/jobs/{job_id}", (),
   title="Querying job execution status", source="table:ecs", handler=f"{JOBS}:show_job", access_level="read",
   sdk="show_job")

# ---------------------------------------------------------------------------------------------------------------
# Huawei IMS (public images)
# ---------------------------------------------------------------------------------------------------------------
op("ims.list_images", "ims", "GET", "/v2/cloudimages", "ims:images:list", title="Querying images",
   source="table:ims", handler="ecsim.api.ims:list_images", access_level="list", sdk="list_images")
op("glance.versions", "glance", "GET", "/", (), title="Image API versions", source="ecsim", scope="public",
   handler="ecsim.api.glance:versions", mounts=("/image",))
op("glance.list_images", "glance", "GET", "/v2/images", "ims:images:list", title="Querying images (Glance v2)",
   source="table:ims", handler="ecsim.api.glance:list_images", access_level="list", mounts=("/image",))
op("glance.show_image", "glance", "GET", "/v2/images/{image_id}", "ims:images:get",
   title="Querying an image (Glance v2)", source="table:ims", handler="ecsim.api.glance:show_image",
   access_level="read", mounts=("/image",))

# ---------------------------------------------------------------------------------------------------------------
# Nova (native OpenStack compute) — seed 001 and 004 rows, /v2 and /v2.1
# ---------------------------------------------------------------------------------------------------------------
NOVA = ("/v2", "/v2.1")
NOVA_API = "ecsim.api.nova"
SERVERS = "ecsim.api.nova_servers"
ACTION = "/{project_id}/servers/{server_id}/action"
SERVER = "/{project_id}/servers/{server_id}"
op("nova.versions", "nova", "GET", "/", (), title="Compute API versions", source="ecsim", scope="public",
   handler=f"{NOVA_API}:versions", mounts=("/compute",))
op("nova.version_v21", "nova", "GET", "/v2.1", (), title="Compute API v2.1 version", source="ecsim",
   scope="public", handler=f"{NOVA_API}:version_v21")
op("nova.version_v21_project", "nova", "GET", "/v2.1/{project_id}", (), title="Compute API v2.1 version",
   source="ecsim", scope="public", handler=f"{NOVA_API}:version_v21")
op("nova.version_v2", "nova", "GET", "/v2", (), title="Compute API v2 (legacy) version", source="ecsim",
   scope="public", handler=f"{NOVA_API}:version_v2", mounts=("/compute",))
for _name, _path in (("nova.create_server", "/{project_id}/servers"),
                     ("nova.create_server_volumes_boot", "/{project_id}/os-volumes_boot")):  # Nova's older path
    twins(NOVA, _name, "nova", "POST", _path, "ecs:servers:create", title="Creating an ECS (native OpenStack API)",
          source="table:ecs", handler=f"{SERVERS}:create_server", access_level="write")
twins(NOVA, "nova.list_servers", "nova", "GET", "/{project_id}/servers", "ecs:servers:list",
      title="Querying ECSs (native OpenStack API)", source="table:ecs", handler=f"{SERVERS}:list_servers",
      access_level="list")
twins(NOVA, "nova.list_servers_detail", "nova", "GET", "/{project_id}/servers/detail", "ecs:servers:list",
      title="Querying ECS details (native OpenStack API)", source="table:ecs",
      handler=f"{SERVERS}:list_servers_detail", access_level="list")
twins(NOVA, "nova.show_server", "nova", "GET", SERVER, "ecs:servers:get",
      title="Querying details about an ECS (native OpenStack API)", source="table:ecs",
      handler=f"{SERVERS}:show_server", resource_type="instance", resource_from="path:server_id",
      access_level="read")
twins(NOVA, "nova.update_server", "nova", "PUT", SERVER, "ecs:servers:update",
      title="Modifying an ECS (native OpenStack API)", source="table:ecs", handler=f"{SERVERS}:update_server",
      resource_type="instance", resource_from="path:server_id", access_level="write")
twins(NOVA, "nova.delete_server", "nova", "DELETE", SERVER, "ecs:servers:delete",
      title="Deleting an ECS (native OpenStack API)", source="table:ecs", handler=f"{SERVERS}:delete_server",
      resource_type="instance", resource_from="path:server_id", access_level="write")
twins(NOVA, "nova.list_server_ips", "nova", "GET", SERVER + "/ips", "ecs:servers:get",
      title="Querying an ECS's addresses (native OpenStack API)", source="table:ecs", handler=f"{SERVERS}:list_ips",
      resource_type="instance", resource_from="path:server_id", access_level="read")
twins(NOVA, "nova.show_server_ips", "nova", "GET", SERVER + "/ips/{network_label}", "ecs:servers:get",
      title="Querying an ECS's addresses on a network (native OpenStack API)", source="table:ecs",
      handler=f"{SERVERS}:show_ips", resource_type="instance", resource_from="path:server_id", access_level="read")
META = SERVER + "/metadata"
for name, method, path, action, func in (
        ("list_server_metadata", "GET", META, "ecs:servers:get", "list_metadata"),
        ("replace_server_metadata", "PUT", META, "ecs:servers:update", "replace_metadata"),
        ("update_server_metadata", "POST", META, "ecs:servers:update", "update_metadata"),
        ("show_server_metadata_item", "GET", META + "/{key}", "ecs:servers:get", "show_metadata_item"),
        ("set_server_metadata_item", "PUT", META + "/{key}", "ecs:servers:update", "set_metadata_item"),
        ("delete_server_metadata_item", "DELETE", META + "/{key}", "ecs:servers:update", "delete_metadata_item")):
    twins(NOVA, f"nova.{name}", "nova", method, path, action, title=f"Server metadata: {func.replace('_', ' ')} "
          "(native OpenStack API)", source="table:ecs", handler=f"ecsim.api.nova_metadata:{func}",
          resource_type="instance",
          resource_from="path:server_id", access_level="read" if method == "GET" else "write")
KEYPAIRS = "ecsim.api.nova_keypairs"
twins(NOVA, "nova.create_keypair", "nova", "POST", "/{project_id}/os-keypairs", "ecs:serverKeypairs:create",
      title="Creating a key pair (native OpenStack API)", source="table:ecs", handler=f"{KEYPAIRS}:create_keypair",
      access_level="write")
twins(NOVA, "nova.list_keypairs", "nova", "GET", "/{project_id}/os-keypairs", "ecs:serverKeypairs:list",
      title="Querying key pairs (native OpenStack API)", source="table:ecs", handler=f"{KEYPAIRS}:list_keypairs",
      access_level="list")
twins(NOVA, "nova.show_keypair", "nova", "GET", "/{project_id}/os-keypairs/{keypair_name}", "ecs:serverKeypairs:get",
      title="Querying a key pair (native OpenStack API)", source="table:ecs", handler=f"{KEYPAIRS}:show_keypair",
      access_level="read")
twins(NOVA, "nova.delete_keypair", "nova", "DELETE", "/{project_id}/os-keypairs/{keypair_name}",
      "ecs:serverKeypairs:delete", title="Deleting a key pair (native OpenStack API)", source="table:ecs",
      handler=f"{KEYPAIRS}:delete_keypair", access_level="write")
ACTION_KW = {"resource_type": "instance", "resource_from": "path:server_id", "access_level": "write"}
twins(NOVA, "nova.start_server", "nova", "POST", ACTION, "ecs:servers:start", dependencies="ecs:servers:list",
      selector="os-start", title="Starting an ECS (native OpenStack API)", source="seed:001",
      handler=f"{SERVERS}:start_server", **ACTION_KW)
twins(NOVA, "nova.stop_server", "nova", "POST", ACTION, "ecs:servers:stop",
      dependencies="ecs:servers:list;ecs:servers:get", selector="os-stop",
      title="Stopping an ECS (native OpenStack API)", source="seed:001", handler=f"{SERVERS}:stop_server",
      **ACTION_KW)
twins(NOVA, "nova.reboot_server", "nova", "POST", ACTION, "ecs:servers:reboot",
      dependencies="ecs:servers:list;ecs:servers:get", selector="reboot",
      title="Restarting an ECS (native OpenStack API)", source="seed:001", handler=f"{SERVERS}:reboot_server",
      **ACTION_KW)
twins(NOVA, "nova.resize_server", "nova", "POST", ACTION, "ecs:servers:resize",
      dependencies="ecs:servers:list;ecs:servers:get;ecs:flavors:get;ims:images:get;evs:volumes:list;"
      "evs:volumes:create;evs:volumes:get;evs:volumes:attach;evs:volumes:detach;evs:volumes:manage;vpc:ports:get;"
      "vpc:ports:update;vpc:ports:create;vpc:ports:delete", selector="resize",
      title="Modifying ECS specifications (native OpenStack API)", source="seed:001",
      handler=f"{SERVERS}:resize_server", **ACTION_KW)
twins(NOVA, "nova.confirm_resize", "nova", "POST", ACTION, "ecs:servers:confirmResize", selector="confirmResize",
      title="Confirming a resize (native OpenStack API)", source="table:ecs", handler=f"{SERVERS}:confirm_resize",
      **ACTION_KW)
twins(NOVA, "nova.revert_resize", "nova", "POST", ACTION, "ecs:servers:revertResize", selector="revertResize",
      title="Reverting a resize (native OpenStack API)", source="table:ecs", handler=f"{SERVERS}:revert_resize",
      **ACTION_KW)
twins(NOVA, "nova.rebuild_server", "nova", "POST", ACTION, "ecs:servers:rebuild",
      dependencies="ecs:servers:list;ecs:servers:update;ims:images:get;ims:images:list;ims:images:update",
      selector="rebuild", title="Rebuilding an ECS (native OpenStack API)", source="seed:001",
      handler=f"{SERVERS}:rebuild_server", **ACTION_KW)
# Huawei's table names no action for the Nova-native call (its ECS twin is ecs:cloudServers:getConsoleOutput).
twins(NOVA, "nova.console_output", "nova", "POST", ACTION, "ecs:servers:getConsoleOutput",
      selector="os-getConsoleOutput", title="Querying the console log of an ECS (native OpenStack API)",
      source="table:ecs", handler=f"{SERVERS}:console_output", resource_type="instance",
      resource_from="path:server_id", access_level="read", enterprise_project=False)
twins(NOVA, "nova.lock_server", "nova", "POST", ACTION, "ecs:servers:lock",
      dependencies="ecs:servers:list;ecs:servers:get", selector="lock",
      title="Locking an ECS (native OpenStack API)", source="seed:001", handler=f"{SERVERS}:lock_server",
      **ACTION_KW)
twins(NOVA, "nova.unlock_server", "nova", "POST", ACTION, "ecs:servers:unlock",
      dependencies="ecs:servers:list;ecs:servers:get", selector="unlock",
      title="Unlocking an ECS (native OpenStack API)", source="seed:001", handler=f"{SERVERS}:unlock_server",
      **ACTION_KW)
twins(NOVA, "nova.force_delete_server", "nova", "POST", ACTION, "ecs:servers:delete", selector="forceDelete",
      title="Force-deleting an ECS (native OpenStack API)", source="table:ecs",
      handler=f"{SERVERS}:force_delete_server", **ACTION_KW)
twins(NOVA, "nova.restore_server", "nova", "POST", ACTION, "ecs:servers:restore", selector="restore",
      title="Restoring a soft-deleted ECS (native OpenStack API)", source="table:ecs",
      handler=f"{SERVERS}:restore_server", **ACTION_KW)
for _key, _verb in (("addSecurityGroup", "Adding"), ("removeSecurityGroup", "Removing")):
    # Huawei's table names no action of its own for these; ecs:securityGroups:use is the ECS action about a
    # server's security groups in its system policies (unverified for these two calls).
    twins(NOVA, f"nova.{_key[:-len('SecurityGroup')]}_security_group", "nova", "POST", ACTION,
          "ecs:securityGroups:use", selector=_key, title=f"{_verb} a security group (native OpenStack API)",
          source="table:ecs", handler=f"{SERVERS}:{_key[:-len('SecurityGroup')]}_security_group", **ACTION_KW)
NOVA_SG = "ecsim.api.nova_proxies"
# Nova's security-group reads: the groups are VPC's, so are the actions of the proxy (unverified for these calls);
# a server's groups are part of reading the server.
twins(NOVA, "nova.list_security_groups", "nova", "GET", "/{project_id}/os-security-groups",
      "vpc:securityGroups:list", title="Querying security groups (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_SG}:list_security_groups", access_level="list")
twins(NOVA, "nova.show_security_group", "nova", "GET", "/{project_id}/os-security-groups/{security_group_id}",
      "vpc:securityGroups:get", title="Querying a security group (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_SG}:show_security_group", access_level="read")
NOVA_TAGS = "ecsim.api.nova_tags"
TAG_KW = {"source": "table:ecs", "resource_type": "instance", "resource_from": "path:server_id",
          "enterprise_project": False}
for _method, _path, _action, _handler, _title in (
        ("GET", "/tags", "getTags", "list_tags", "Querying tags of an ECS"),
        ("PUT", "/tags", "setTags", "replace_tags", "Replacing the tags of an ECS"),
        ("DELETE", "/tags", "setTags", "delete_tags", "Deleting every tag of an ECS"),
        ("GET", "/tags/{tag}", "getTags", "check_tag", "Checking a tag of an ECS"),
        ("PUT", "/tags/{tag}", "setTags", "add_tag", "Adding a tag to an ECS"),
        ("DELETE", "/tags/{tag}", "setTags", "delete_tag", "Deleting a tag of an ECS")):
    twins(NOVA, f"nova.{_handler}", "nova", _method, SERVER + _path, f"ecs:servers:{_action}",
          title=f"{_title} (native OpenStack API)", handler=f"{NOVA_TAGS}:{_handler}",
          access_level="read" if _method == "GET" else "tagging", **TAG_KW)
NOVA_NET = "ecsim.api.nova_proxies"
twins(NOVA, "nova.list_networks", "nova", "GET", "/{project_id}/os-networks", "ecs:networks:list",
      title="Querying networks (native OpenStack API)", source="table:ecs", handler=f"{NOVA_NET}:list_networks",
      access_level="list", enterprise_project=False)
twins(NOVA, "nova.show_network", "nova", "GET", "/{project_id}/os-networks/{network_id}", "ecs:networks:list",
      title="Querying a network (native OpenStack API)", source="table:ecs", handler=f"{NOVA_NET}:show_network",
      access_level="read", enterprise_project=False)
# os-tenant-networks: no row of its own in Huawei's table; the same networks as os-networks, the same action.
twins(NOVA, "nova.list_tenant_networks", "nova", "GET", "/{project_id}/os-tenant-networks", "ecs:networks:list",
      title="Querying the project's networks (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_NET}:list_tenant_networks", access_level="list", enterprise_project=False)
twins(NOVA, "nova.show_tenant_network", "nova", "GET", "/{project_id}/os-tenant-networks/{network_id}",
      "ecs:networks:list", title="Querying a network of the project (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_NET}:show_tenant_network", access_level="read", enterprise_project=False)
twins(NOVA, "nova.list_server_security_groups", "nova", "GET", SERVER + "/os-security-groups", "ecs:servers:get",
      title="Querying the security groups of an ECS (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_SG}:list_server_security_groups", resource_type="instance", resource_from="path:server_id",
      access_level="read")
# Unprefixed, /v2/{project_id}/os-quota-sets is Cinder's (EVS serves Cinder there): Nova's only under /compute.
twins(NOVA, "nova.show_quota_set", "nova", "GET", "/{project_id}/os-quota-sets/{target_project_id}",
      "ecs:quotas:get", title="Querying tenant quotas (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_API}:show_quota_set", access_level="read", mounts=("/compute",))
twins(NOVA, "nova.show_quota_detail", "nova", "GET", "/{project_id}/os-quota-sets/{target_project_id}/detail",
      "ecs:quotas:get", title="Querying tenant quotas and their usage (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_API}:show_quota_detail", access_level="read", mounts=("/compute",))
twins(NOVA, "nova.show_quota_defaults", "nova", "GET", "/{project_id}/os-quota-sets/{target_project_id}/defaults",
      "ecs:quotas:get", title="Querying default quotas (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_API}:show_quota_set", access_level="read", mounts=("/compute",))
twins(NOVA, "nova.list_flavors", "nova", "GET", "/{project_id}/flavors", "ecs:flavors:get",
      title="Querying flavors (native OpenStack API)", source="table:ecs", handler=f"{NOVA_API}:list_flavors",
      access_level="list")
twins(NOVA, "nova.list_flavors_detail", "nova", "GET", "/{project_id}/flavors/detail", "ecs:flavors:get",
      title="Querying flavor details (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_API}:list_flavors_detail", access_level="list")
twins(NOVA, "nova.show_flavor", "nova", "GET", "/{project_id}/flavors/{flavor_id}", "ecs:flavors:get",
      title="Querying a flavor (native OpenStack API)", source="table:ecs", handler=f"{NOVA_API}:show_flavor",
      access_level="read")
# Cinder v2 has the same path unprefixed: the legacy Nova v2 one lives only under /compute.
for _prefix, _mounts in (("/v2.1", None), ("/v2", ("/compute",))):
    _tag = _prefix.strip("/").replace(".", "")
    op(f"nova.list_availability_zones.{_tag}", "nova", "GET", _prefix + "/{project_id}/os-availability-zone",
       "ecs:availabilityZones:list", title="Querying AZs (native OpenStack API)", source="table:ecs",
       handler=f"{NOVA_API}:list_availability_zones", access_level="list", enterprise_project=False,
       sdk="nova_list_availability_zones", mounts=_mounts)
    op(f"nova.list_availability_zones_detail.{_tag}", "nova", "GET",
       _prefix + "/{project_id}/os-availability-zone/detail", "ecs:availabilityZones:list",
       title="Querying AZs with their hosts (native OpenStack API)", source="table:ecs",
       handler=f"{NOVA_API}:list_availability_zones_detail", access_level="list", enterprise_project=False,
       mounts=_mounts)
twins(NOVA, "nova.list_flavor_extra_specs", "nova", "GET", "/{project_id}/flavors/{flavor_id}/os-extra_specs",
      "ecs:flavors:get", title="Querying a flavor's extra specs (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_API}:list_extra_specs", access_level="read", sdk="nova_show_flavor_extra_specs")
twins(NOVA, "nova.show_flavor_extra_spec", "nova", "GET", "/{project_id}/flavors/{flavor_id}/os-extra_specs/{key}",
      "ecs:flavors:get", title="Querying one extra spec of a flavor (native OpenStack API)", source="table:ecs",
      handler=f"{NOVA_API}:show_extra_spec", access_level="read")
twins(NOVA, "nova.limits", "nova", "GET", "/{project_id}/limits", "ecs:quotas:get",
      title="Querying tenant limits (native OpenStack API)", source="table:ecs", handler=f"{NOVA_API}:limits",
      access_level="read")
NOVA_VOLUMES = "ecsim.api.nova_volumes"
VOLUME_ATTACHMENTS = "/{project_id}/servers/{server_id}/os-volume_attachments"
VA_KW = {"source": "table:ecs", "resource_type": "instance", "resource_from": "path:server_id"}
twins(NOVA, "nova.list_volume_attachments", "nova", "GET", VOLUME_ATTACHMENTS, "ecs:serverVolumeAttachments:list",
      title="Querying disks attached to an ECS (native OpenStack API)",
      handler=f"{NOVA_VOLUMES}:list_attachments", access_level="list", **VA_KW)
twins(NOVA, "nova.attach_volume", "nova", "POST", VOLUME_ATTACHMENTS, "ecs:serverVolumeAttachments:create",
      title="Attaching a disk to an ECS (native OpenStack API)", handler=f"{NOVA_VOLUMES}:attach",
      access_level="write", **VA_KW)
twins(NOVA, "nova.show_volume_attachment", "nova", "GET", VOLUME_ATTACHMENTS + "/{volume_id}",
      "ecs:serverVolumeAttachments:get", title="Querying a disk attached to an ECS (native OpenStack API)",
      handler=f"{NOVA_VOLUMES}:show_attachment", access_level="read", **VA_KW)
twins(NOVA, "nova.detach_volume", "nova", "DELETE", VOLUME_ATTACHMENTS + "/{volume_id}",
      "ecs:serverVolumeAttachments:delete", title="Detaching a disk from an ECS (native OpenStack API)",
      handler=f"{NOVA_VOLUMES}:detach", access_level="write", **VA_KW)
twins(NOVA, "nova.create_server_group", "nova", "POST", "/{project_id}/os-server-groups", "ecs:serverGroups:manage",
      title="Creating an ECS group (native OpenStack API)", source="seed:004",
      handler="ecsim.api.nova_groups:create_group", access_level="write")
twins(NOVA, "nova.list_server_groups", "nova", "GET", "/{project_id}/os-server-groups", "ecs:serverGroups:manage",
      title="Querying ECS groups (native OpenStack API)", source="seed:004",
      handler="ecsim.api.nova_groups:list_groups", access_level="list")
twins(NOVA, "nova.show_server_group", "nova", "GET", "/{project_id}/os-server-groups/{server_group_id}",
      "ecs:serverGroups:manage", title="Querying details about an ECS group (native OpenStack API)",
      source="seed:004", handler="ecsim.api.nova_groups:show_group", access_level="read")
twins(NOVA, "nova.delete_server_group", "nova", "DELETE", "/{project_id}/os-server-groups/{server_group_id}",
      "ecs:serverGroups:manage", title="Deleting an ECS group (native OpenStack API)", source="seed:004",
      handler="ecsim.api.nova_groups:delete_group", access_level="write")

# ---------------------------------------------------------------------------------------------------------------
# Cinder (native OpenStack block storage), /v2 and /v3: seed 003's eight actions, the rest from EVS's tables
# ---------------------------------------------------------------------------------------------------------------
CINDER = ("/v2", "/v3")
CND = "ecsim.api.cinder"
VOLUMES = "/{project_id}/volumes"
VOLUME = VOLUMES + "/{volume_id}"
VACTION = VOLUME + "/action"
for _selector, _name, _actions, _title in (
    ("os-extend", "extend_volume", "evs:volumes:extend;evs:volumes:get", "Extending a disk"),
    ("os-volume_upload_image", "upload_volume_image", "evs:volumes:uploadImage", "Exporting a disk as an image"),
    ("os-attach", "attach_volume", "evs:volumes:attach;evs:volumes:get", "Attaching a disk"),
    ("os-detach", "detach_volume", "evs:volumes:detach;evs:volumes:get", "Detaching a disk"),
    ("os-reserve", "reserve_volume", "evs:volumes:attach", "Reserving a disk"),
    ("os-unreserve", "unreserve_volume", "evs:volumes:attach", "Unreserving a disk"),
    ("os-set_bootable", "set_volume_bootable", "evs:volumes:update", "Setting the bootable flag"),
    ("os-update_readonly_flag", "update_volume_readonly", "evs:volumes:update", "Setting the read-only flag"),
):
    twins(CINDER, f"cinder.{_name}", "cinder", "POST", VACTION, _actions, selector=_selector,
          title=f"{_title} (OpenStack Cinder)", source="seed:003", handler=f"{CND}:{_name}", resource_type="volume",
          resource_from="path:volume_id", access_level="write")
for _name, _method, _path, _actions, _deps, _title, _level in (
    ("create_volume", "POST", VOLUMES, "evs:volumes:create", "evs:volumes:get", "Creating a disk", "write"),
    ("list_volumes", "GET", VOLUMES, "evs:volumes:list", "", "Querying disks", "list"),
    ("list_volumes_detail", "GET", VOLUMES + "/detail", "evs:volumes:list", "", "Querying disk details", "list"),
    ("show_volume", "GET", VOLUME, "evs:volumes:get", "", "Querying a disk", "read"),
    ("update_volume", "PUT", VOLUME, "evs:volumes:update", "evs:volumes:get", "Updating a disk", "write"),
    ("delete_volume", "DELETE", VOLUME, "evs:volumes:delete", "evs:volumes:get", "Deleting a disk", "write"),
    ("show_metadata", "GET", VOLUME + "/metadata", "evs:volumes:get", "", "Querying disk metadata", "read"),
    ("create_metadata", "POST", VOLUME + "/metadata", "evs:volumes:update", "evs:volumes:get",
     "Adding disk metadata", "write"),
    ("replace_metadata", "PUT", VOLUME + "/metadata", "evs:volumes:update", "evs:volumes:get",
     "Updating disk metadata", "write"),
    ("show_metadata_item", "GET", VOLUME + "/metadata/{key}", "evs:volumes:get", "",
     "Querying a disk metadata item", "read"),
    ("update_metadata_item", "PUT", VOLUME + "/metadata/{key}", "evs:volumes:update", "evs:volumes:get",
     "Updating a disk metadata item", "write"),
    ("delete_metadata_item", "DELETE", VOLUME + "/metadata/{key}", "evs:volumes:delete", "evs:volumes:get",
     "Deleting a disk metadata item", "write"),
    ("list_types", "GET", "/{project_id}/types", "evs:types:get", "", "Querying disk types", "list"),
    ("show_type", "GET", "/{project_id}/types/{type_id}", "evs:types:get", "", "Querying a disk type", "read"),
    ("show_quotas", "GET", "/{project_id}/os-quota-sets/{target_project_id}", "evs:quotas:get", "",
     "Querying quotas", "read"),
    ("show_default_quotas", "GET", "/{project_id}/os-quota-sets/{target_project_id}/defaults", "evs:quotas:get",
     "", "Querying default quotas", "read"),
    ("list_availability_zones", "GET", "/{project_id}/os-availability-zone", "", "",
     "Querying availability zones", "list"),
    ("list_extensions", "GET", "/{project_id}/extensions", "", "", "Querying API extensions", "list"),
):
    resource = {"resource_type": "volume", "resource_from": "path:volume_id"} if "{volume_id}" in _path else {}
    twins(CINDER, f"cinder.{_name}", "cinder", _method, _path, _actions, dependencies=_deps,
          title=f"{_title} (OpenStack Cinder)", source="table:evs", handler=f"{CND}:{_name}", access_level=_level,
          **resource)
# Unprefixed, /v2/{project_id}/limits is Nova's: Cinder's only under /volume.
twins(CINDER, "cinder.show_limits", "cinder", "GET", "/{project_id}/limits", "evs:quotas:get",
      title="Querying absolute limits (OpenStack Cinder)", source="table:evs", handler=f"{CND}:show_limits",
      access_level="read", mounts=("/volume",))
op("cinder.volumes_summary.v3", "cinder", "GET", "/v3" + VOLUMES + "/summary", "evs:volumes:list",
   title="Querying the disk summary (OpenStack Cinder, 3.12+)", source="table:evs", handler=f"{CND}:volumes_summary",
   access_level="list")
for _name, _path, _title in (("versions", "/", "Listing block-storage API versions"),
                             ("version_v3", "/v3", "Showing block-storage API v3"),
                             ("version_v2", "/v2", "Showing block-storage API v2")):
    op(f"cinder.{_name}", "cinder", "GET", _path, (), title=_title, source="table:evs", handler=f"{CND}:{_name}",
       scope="public", mounts=("/volume",))

# ---------------------------------------------------------------------------------------------------------------
# Huawei EVS native (cloudvolumes): async operations answer with jobs
# ---------------------------------------------------------------------------------------------------------------
EVS = "ecsim.api.evs"
CLOUDVOLUME = "/v2/{project_id}/cloudvolumes/{volume_id}"
for _prefix, _sdk in (("/v2.1", "create_volume"), ("/v2", ())):
    _tag = _prefix.strip("/").replace(".", "")
    op(f"evs.create_volume.{_tag}", "evs", "POST", _prefix + "/{project_id}/cloudvolumes", "evs:volumes:create",
       title="Creating EVS disks", source="table:evs", handler=f"{EVS}:create_volume",
       access_level="write", sdk=_sdk, request_tags="volume.tags",
       request_ep="volume.enterprise_project_id", request_keys=(("evs:volumetype", "volume.volume_type"),))
    op(f"evs.resize_volume.{_tag}", "evs", "POST",
       _prefix + "/{project_id}/cloudvolumes/{volume_id}/action", "evs:volumes:extend", selector="os-extend",
       title="Expanding EVS disk capacity", source="table:evs", handler=f"{EVS}:resize_volume",
       resource_type="volume", resource_from="path:volume_id", access_level="write",
       sdk="resize_volume" if _prefix == "/v2.1" else ())
EVS_TAGS = "ecsim.api.evs_tags"
for _verb, _action in (("create", "evs:volumeTags:create"), ("delete", "evs:volumeTags:delete")):
    op(f"evs.batch_{_verb}_volume_tags", "evs", "POST", CLOUDVOLUME + "/tags/action", _action,
       selector=f"action={_verb}", title=f"Batch {_verb.rstrip('e')}ing EVS disk tags", source="table:evs",
       handler=f"{EVS_TAGS}:{_verb}_tags", resource_type="volume", resource_from="path:volume_id",
       access_level="tagging", enterprise_project=False, sdk=f"batch_{_verb}_volume_tags")
op("evs.show_volume_tags", "evs", "GET", CLOUDVOLUME + "/tags", "evs:volumeTags:get",
   title="Querying the tags of an EVS disk", source="table:evs", handler=f"{EVS_TAGS}:show_tags",
   resource_type="volume", resource_from="path:volume_id", access_level="read", enterprise_project=False,
   sdk="show_volume_tags")
op("evs.list_volume_tags", "evs", "GET", "/v2/{project_id}/cloudvolumes/tags", "evs:volumeTags:list",
   title="Querying the tags of a project's EVS disks", source="table:evs", handler=f"{EVS_TAGS}:project_tags",
   access_level="list", enterprise_project=False, sdk="list_volume_tags")
op("evs.list_volumes", "evs", "GET", "/v2/{project_id}/cloudvolumes/detail", "evs:volumes:list",
   title="Querying EVS disk details", source="table:evs", handler=f"{EVS}:list_volumes", access_level="list",
   sdk="list_volumes")
op("evs.list_volumes_brief", "evs", "GET", "/v2/{project_id}/cloudvolumes", "evs:volumes:list",
   title="Querying EVS disks", source="table:evs", handler=f"{EVS}:list_volumes_brief", access_level="list")
op("evs.show_volume", "evs", "GET", CLOUDVOLUME, "evs:volumes:get", title="Querying an EVS disk",
   source="table:evs", handler=f"{EVS}:show_volume", resource_type="volume", resource_from="path:volume_id",
   access_level="read", sdk="show_volume")
op("evs.update_volume", "evs", "PUT", CLOUDVOLUME, "evs:volumes:update", title="Updating an EVS disk",
   source="table:evs", handler=f"{EVS}:update_volume", resource_type="volume", resource_from="path:volume_id",
   access_level="write", sdk="update_volume")
op("evs.delete_volume", "evs", "DELETE", CLOUDVOLUME, "evs:volumes:delete", title="Deleting an EVS disk",
   source="table:evs", handler=f"{EVS}:delete_volume", resource_type="volume", resource_from="path:volume_id",
   access_level="write", sdk="delete_volume")

# ---------------------------------------------------------------------------------------------------------------
# Keystone (identity v3): discovery and tokens. Mounted at / and under /identity.
# ---------------------------------------------------------------------------------------------------------------
KS = "ecsim.api.keystone"
op("keystone.versions", "keystone", "GET", "/", (), title="Listing identity API versions", source="table:iam",
   handler=f"{KS}:versions", scope="public", sdk="keystone_list_versions")
op("keystone.version", "keystone", "GET", "/v3", (), title="Showing identity API v3", source="table:iam",
   handler=f"{KS}:version_v3", scope="public", sdk="keystone_show_version")
op("keystone.create_token", "keystone", "POST", "/v3/auth/tokens", (), title="Obtaining a token",
   source="table:iam", handler=f"{KS}:create_token", scope="public",
   sdk=("keystone_create_user_token_by_password", "keystone_create_scoped_token"))
op("keystone.validate_token", "keystone", "GET", "/v3/auth/tokens", (), title="Validating a token",
   source="table:iam", handler=f"{KS}:validate_token", scope="token", sdk="keystone_validate_token")
op("keystone.check_token", "keystone", "HEAD", "/v3/auth/tokens", (), title="Checking a token",
   source="table:iam", handler=f"{KS}:check_token", scope="token")
op("keystone.revoke_token", "keystone", "DELETE", "/v3/auth/tokens", (), title="Revoking a token",
   source="table:iam", handler=f"{KS}:revoke_token", scope="token")
op("keystone.list_auth_projects", "keystone", "GET", "/v3/auth/projects", (),
   title="Querying projects accessible to a user", source="table:iam", handler=f"{KS}:list_auth_projects",
   scope="token", sdk="keystone_list_auth_projects")
op("keystone.list_auth_domains", "keystone", "GET", "/v3/auth/domains", (),
   title="Querying accounts accessible to a user", source="table:iam", handler=f"{KS}:list_auth_domains",
   scope="token", sdk="keystone_list_auth_domains")
op("keystone.show_catalog", "keystone", "GET", "/v3/auth/catalog", (), title="Querying the service catalog",
   source="table:iam", handler=f"{KS}:show_catalog", scope="token", sdk="keystone_show_catalog")
# What a deployment's identity service tells any authenticated caller: its own account, the region, the services
# and their endpoints (read-only; the OpenStack CLI's --domain options and `endpoint list` need them).
for _name, _path, _title, _sdk in (
        ("list_domains", "/v3/domains", "Listing accounts", ()),
        ("show_domain", "/v3/domains/{domain_id}", "Querying an account", ()),
        ("list_regions", "/v3/regions", "Querying regions", "keystone_list_regions"),
        ("show_region", "/v3/regions/{region_id}", "Querying a region", "keystone_show_region"),
        ("list_services", "/v3/services", "Querying services", "keystone_list_services"),
        ("show_service", "/v3/services/{service_id}", "Querying a service", "keystone_show_service"),
        ("list_endpoints", "/v3/endpoints", "Querying endpoints", "keystone_list_endpoints"),
        ("show_endpoint", "/v3/endpoints/{endpoint_id}", "Querying an endpoint", "keystone_show_endpoint")):
    op(f"keystone.{_name}", "keystone", "GET", _path, (), title=_title, source="table:iam",
       handler=f"{KS}:{_name}", scope="token", sdk=_sdk)
op("keystone.list_projects", "iam", "GET", "/v3/projects", "iam:projects:listProjects",
   title="Querying project information", source="table:iam", handler=f"{KS}:list_projects", scope="domain",
   sdk="keystone_list_projects")
op("keystone.show_project", "iam", "GET", "/v3/projects/{project_id}", (), title="Querying project details",
   source="table:iam", handler=f"{KS}:show_project", scope="token", sdk="keystone_show_project")
op("keystone.create_project", "iam", "POST", "/v3/projects", "iam:projects:createProject",
   title="Creating a project", source="table:iam", handler=f"{KS}:create_project", scope="domain",
   sdk="keystone_create_project")
op("keystone.update_project", "iam", "PATCH", "/v3/projects/{project_id}", "iam:projects:updateProject",
   title="Modifying project data", source="table:iam", handler=f"{KS}:update_project", scope="domain",
   sdk="keystone_update_project")
op("keystone.list_projects_for_user", "iam", "GET", "/v3/users/{user_id}/projects",
   "iam:projects:listProjectsForUser", title="Querying projects of a user", source="table:iam",
   handler=f"{KS}:list_projects_for_user", scope="domain", self_service="path:user_id",
   sdk="keystone_list_projects_for_user")

# ---------------------------------------------------------------------------------------------------------------
# IAM administration: users, groups, membership, custom policies, grants, access keys (account level).
# ---------------------------------------------------------------------------------------------------------------
def iam(name: str, method: str, path: str, action: str, sdk: str | tuple[str, ...], title: str, **kw: object) -> None:
    permissions = any(part in name for part in ("custom_polic", "role", "grant", "revoke"))
    module = "ecsim.api.iam_permissions" if permissions else "ecsim.api.iam_users"
    op(f"iam.{name}", "iam", method, path, action, title=title, source="table:iam", handler=f"{module}:{name}",
       scope="domain", sdk=sdk, **kw)


iam("create_user", "POST", "/v3.0/OS-USER/users", "iam:users:createUser", "create_user", "Creating an IAM user")
iam("keystone_create_user", "POST", "/v3/users", "iam:users:createUser", "keystone_create_user",
    "Creating an IAM user (Keystone)")
iam("list_users", "GET", "/v3/users", "iam:users:listUsers", "keystone_list_users", "Listing IAM users")
iam("show_user", "GET", "/v3/users/{user_id}", "iam:users:getUser", "keystone_show_user", "Querying an IAM user",
    self_service="path:user_id")
iam("show_user_v30", "GET", "/v3.0/OS-USER/users/{user_id}", "iam:users:getUser", "show_user",
    "Querying IAM user details", self_service="path:user_id")
iam("update_user", "PATCH", "/v3/users/{user_id}", "iam:users:updateUser", "keystone_update_user_by_admin",
    "Modifying an IAM user")
iam("update_user_v30", "PUT", "/v3.0/OS-USER/users/{user_id}", "iam:users:updateUser", "update_user",
    "Modifying IAM user information")
iam("delete_user", "DELETE", "/v3/users/{user_id}", "iam:users:deleteUser", "keystone_delete_user",
    "Deleting an IAM user")
iam("change_password", "POST", "/v3/users/{user_id}/password", (), "keystone_update_user_password",
    "Changing one's own password")
iam("create_group", "POST", "/v3/groups", "iam:groups:createGroup", "keystone_create_group",
    "Creating a user group")
iam("list_groups", "GET", "/v3/groups", "iam:groups:listGroups", "keystone_list_groups", "Listing user groups")
iam("show_group", "GET", "/v3/groups/{group_id}", "iam:groups:getGroup", "keystone_show_group",
    "Querying a user group")
iam("update_group", "PATCH", "/v3/groups/{group_id}", "iam:groups:updateGroup", "keystone_update_group",
    "Modifying a user group")
iam("delete_group", "DELETE", "/v3/groups/{group_id}", "iam:groups:deleteGroup", "keystone_delete_group",
    "Deleting a user group")
iam("add_user_to_group", "PUT", "/v3/groups/{group_id}/users/{user_id}", "iam:permissions:addUserToGroup",
    "keystone_add_user_to_group", "Adding a user to a group")
iam("check_user_in_group", "HEAD", "/v3/groups/{group_id}/users/{user_id}", "iam:permissions:checkUserInGroup",
    "keystone_check_user_in_group", "Checking group membership")
iam("remove_user_from_group", "DELETE", "/v3/groups/{group_id}/users/{user_id}",
    "iam:permissions:removeUserFromGroup", "keystone_remove_user_from_group", "Removing a user from a group")
iam("list_users_for_group", "GET", "/v3/groups/{group_id}/users", "iam:users:listUsersForGroup",
    "keystone_list_users_for_group_by_admin", "Listing the users of a group")
iam("list_groups_for_user", "GET", "/v3/users/{user_id}/groups", "iam:groups:listGroupsForUser",
    "keystone_list_groups_for_user", "Listing the groups of a user", self_service="path:user_id")
iam("create_custom_policy", "POST", "/v3.0/OS-ROLE/roles", "iam:roles:createRole",
    ("create_cloud_service_custom_policy", "create_agency_custom_policy"), "Creating a custom policy")
iam("list_custom_policies", "GET", "/v3.0/OS-ROLE/roles", "iam:roles:listRoles", "list_custom_policies",
    "Listing custom policies")
iam("show_custom_policy", "GET", "/v3.0/OS-ROLE/roles/{role_id}", "iam:roles:getRole", "show_custom_policy",
    "Querying a custom policy")
iam("update_custom_policy", "PATCH", "/v3.0/OS-ROLE/roles/{role_id}", "iam:roles:updateRole",
    ("update_cloud_service_custom_policy", "update_agency_custom_policy"), "Modifying a custom policy")
iam("delete_custom_policy", "DELETE", "/v3.0/OS-ROLE/roles/{role_id}", "iam:roles:deleteRole",
    "delete_custom_policy", "Deleting a custom policy")
iam("list_roles", "GET", "/v3/roles", "iam:roles:listRoles", "keystone_list_permissions",
    "Listing permissions")
iam("show_role", "GET", "/v3/roles/{role_id}", "iam:roles:getRole", "keystone_show_permission",
    "Querying permission details")
for _target, _path, _suffix, _sdk in (
    ("project", "/v3/projects/{project_id}/groups/{group_id}/roles", "OnProject",
     ("keystone_associate_group_with_project_permission", "keystone_check_project_permission_for_group",
      "keystone_remove_project_permission_from_group", "keystone_list_project_permissions_for_group")),
    ("domain", "/v3/domains/{domain_id}/groups/{group_id}/roles", "OnDomain",
     ("keystone_associate_group_with_domain_permission", "keystone_check_domain_permission_for_group",
      "keystone_remove_domain_permission_from_group", "keystone_list_domain_permissions_for_group")),
    ("inherited", "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles", "",
     ("update_domain_group_inherit_role", "keystone_checkrole_for_group", "delete_domain_group_inherited_role",
      "keystone_list_all_project_permissions_for_group")),
):
    _tail = "/inherited_to_projects" if _target == "inherited" else ""
    iam(f"grant_{_target}", "PUT", f"{_path}/{{role_id}}{_tail}", f"iam:permissions:grantRoleToGroup{_suffix}",
        _sdk[0], f"Granting permissions to a group ({_target})")
    iam(f"check_grant_{_target}", "HEAD", f"{_path}/{{role_id}}{_tail}",
        f"iam:permissions:checkRoleForGroup{_suffix}", _sdk[1], f"Checking a group's permission ({_target})")
    iam(f"revoke_{_target}", "DELETE", f"{_path}/{{role_id}}{_tail}",
        f"iam:permissions:revokeRoleFromGroup{_suffix}", _sdk[2], f"Revoking a group's permission ({_target})")
    iam(f"list_grants_{_target}", "GET", f"{_path}{_tail}", f"iam:permissions:listRolesForGroup{_suffix}",
        _sdk[3], f"Listing a group's permissions ({_target})")
iam("list_role_assignments", "GET", "/v3.0/OS-PERMISSION/role-assignments", "iam:permissions:listRoleAssignments",
    "show_domain_role_assignments", "Querying permission assignment records")
for _kind, _param in (("groups", "group_id"), ("users", "user_id")):
    _path = f"/v3.0/OS-PERMISSION/enterprise-projects/{{enterprise_project_id}}/{_kind}/{{{_param}}}/roles"
    _who, _sdk_who = ("Group", "group") if _kind == "groups" else ("User", "user")
    iam(f"grant_enterprise_project_{_sdk_who}", "PUT", _path + "/{role_id}",
        f"iam:permissions:grantRoleTo{_who}OnEnterpriseProject",
        f"associate_role_to_{_sdk_who}_on_enterprise_project", f"Granting permissions to a {_sdk_who} on an "
        "enterprise project")
    iam(f"revoke_enterprise_project_{_sdk_who}", "DELETE", _path + "/{role_id}",
        f"iam:permissions:revokeRoleFrom{_who}OnEnterpriseProject",
        f"revoke_role_from_{_sdk_who}_on_enterprise_project", f"Revoking a {_sdk_who}'s enterprise-project "
        "permission")
    iam(f"list_grants_enterprise_project_{_sdk_who}", "GET", _path,
        f"iam:permissions:listRolesFor{_who}OnEnterpriseProject",
        f"list_roles_for_{_sdk_who}_on_enterprise_project", f"Listing a {_sdk_who}'s enterprise-project permissions")
iam("create_access_key", "POST", "/v3.0/OS-CREDENTIAL/credentials", "iam:credentials:createCredential",
    "create_permanent_access_key", "Creating a permanent access key", self_service="body:credential.user_id")
iam("list_access_keys", "GET", "/v3.0/OS-CREDENTIAL/credentials", "iam:credentials:listCredentials",
    "list_permanent_access_keys", "Listing permanent access keys", self_service="query:user_id")
iam("show_access_key", "GET", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", "iam:credentials:getCredential",
    "show_permanent_access_key", "Querying a permanent access key", self_service="access_key")
iam("update_access_key", "PUT", "/v3.0/OS-CREDENTIAL/credentials/{access_key}",
    "iam:credentials:updateCredential", "update_permanent_access_key", "Modifying a permanent access key",
    self_service="access_key")
iam("delete_access_key", "DELETE", "/v3.0/OS-CREDENTIAL/credentials/{access_key}",
    "iam:credentials:deleteCredential", "delete_permanent_access_key", "Deleting a permanent access key",
    self_service="access_key")

# Temporary access keys: no permission needed (Huawei); the handler authenticates the caller itself, because the
# token may also come in the body.
op("iam.create_temporary_access_key", "iam", "POST", "/v3.0/OS-CREDENTIAL/securitytokens", (),
   title="Obtaining a temporary access key and security token", source="table:iam",
   handler="ecsim.api.iam_sts:create_temporary_access_key", scope="public",
   sdk=("create_temporary_access_key_by_token", "create_temporary_access_key_by_agency"))

# ---------------------------------------------------------------------------------------------------------------
# IAM 5.0 identity policies (/v5, account level, errors in the IAM5 format). Actions are those of Huawei's api-iam5
# pages ("iam:policies:createV5" ...); the authorization-schema queries need no permission.
# ---------------------------------------------------------------------------------------------------------------
P5 = "ecsim.api.iam_policies_v5"
POLICY5 = "/v5/policies/{policy_id}"
for _name, _method, _path, _action, _level, _rtype, _title in (
    ("create_policy", "POST", "/v5/policies", "iam:policies:createV5", "permission_management", "policy",
     "Creating a custom identity policy"),
    ("list_policies", "GET", "/v5/policies", "iam:policies:listV5", "list", None, "Listing identity policies"),
    ("get_policy", "GET", POLICY5, "iam:policies:getV5", "read", "policy", "Querying an identity policy"),
    ("update_policy", "PUT", POLICY5, "iam:policies:updateV5", "permission_management", "policy",
     "Modifying an identity policy's description"),
    ("delete_policy", "DELETE", POLICY5, "iam:policies:deleteV5", "permission_management", "policy",
     "Deleting a custom identity policy"),
    ("create_policy_version", "POST", POLICY5 + "/versions", "iam:policies:createVersionV5",
     "permission_management", "policy", "Creating an identity policy version"),
    ("list_policy_versions", "GET", POLICY5 + "/versions", "iam:policies:listVersionsV5", "list", "policy",
     "Listing identity policy versions"),
    ("get_policy_version", "GET", POLICY5 + "/versions/{version_id}", "iam:policies:getVersionV5", "read",
     "policy", "Querying an identity policy version"),
    ("delete_policy_version", "DELETE", POLICY5 + "/versions/{version_id}", "iam:policies:deleteVersionV5",
     "permission_management", "policy", "Deleting an identity policy version"),
    ("set_default_policy_version", "POST", POLICY5 + "/versions/{version_id}/set-default",
     "iam:policies:setDefaultVersionV5", "permission_management", "policy",
     "Setting the default version of an identity policy"),
    ("attach_user_policy", "POST", POLICY5 + "/attach-user", "iam:users:attachPolicyV5", "permission_management",
     "user", "Attaching an identity policy to a user"),
    ("detach_user_policy", "POST", POLICY5 + "/detach-user", "iam:users:detachPolicyV5", "permission_management",
     "user", "Detaching an identity policy from a user"),
    ("attach_group_policy", "POST", POLICY5 + "/attach-group", "iam:groups:attachPolicyV5",
     "permission_management", "group", "Attaching an identity policy to a group"),
    ("detach_group_policy", "POST", POLICY5 + "/detach-group", "iam:groups:detachPolicyV5",
     "permission_management", "group", "Detaching an identity policy from a group"),
    ("list_attached_user_policies", "GET", "/v5/users/{user_id}/attached-policies",
     "iam:users:listAttachedPoliciesV5", "list", "user", "Listing the identity policies attached to a user"),
    ("list_attached_group_policies", "GET", "/v5/groups/{group_id}/attached-policies",
     "iam:groups:listAttachedPoliciesV5", "list", "group", "Listing the identity policies attached to a group"),
    ("list_entities_for_policy", "GET", POLICY5 + "/attached-entities", "iam:policies:listEntitiesV5", "list",
     "policy", "Listing the entities an identity policy is attached to"),
):
    _from = {"policy": "path:policy_id", "user": "body:user_id", "group": "body:group_id"}.get(_rtype or "")
    if _name.startswith("list_attached"):
        _from = f"path:{_rtype}_id"
    elif _name == "create_policy":  # no id yet: the URN names the new policy
        _from = "body:policy_name"
    op(f"iam5.{_name}", "iam5", _method, _path, _action, title=_title, source="table:iam", handler=f"{P5}:{_name}",
       scope="domain", access_level=_level, resource_type=_rtype, resource_from=_from, sdk=f"{_name}_v5")
op("iam5.get_authorization_schema", "iam5", "GET", "/v5/authorization-schemas/services/{service_code}", (),
   title="Querying a service's authorization schema", source="table:iam", handler=f"{P5}:get_authorization_schema",
   scope="token", sdk="get_authorization_schema_v5")
op("iam5.list_registered_services", "iam5", "GET", "/v5/authorization-schemas/registered-services", (),
   title="Listing the services with an authorization schema", source="table:iam",
   handler=f"{P5}:list_registered_services", scope="token", sdk="list_registered_services_for_auth_schema_v5")

# ---------------------------------------------------------------------------------------------------------------
# ecsim's control plane (no IAM: a local tool's own endpoints).
# ---------------------------------------------------------------------------------------------------------------
CTL = "ecsim.api.control"
for _name, _method, _path in (
    ("health", "GET", "/_ecsim/health"),
    ("info", "GET", "/_ecsim/info"),
    ("decisions", "GET", "/_ecsim/decisions"),
    ("coverage", "GET", "/_ecsim/coverage"),
    ("catalog", "GET", "/_ecsim/catalog"),
    ("show_clock", "GET", "/_ecsim/clock"),
    ("set_clock", "POST", "/_ecsim/clock"),
):
    op(f"control.{_name}", "control", _method, _path, (), source="ecsim", handler=f"{CTL}:{_name}",
       scope="control")
for _name, _method, _path in (("simulate", "POST", "/_ecsim/iam/simulate"),
                               ("suggest_policy", "GET", "/_ecsim/iam/suggest")):
    op(f"control.{_name}", "control", _method, _path, (), source="ecsim", handler=f"ecsim.api.iam_insight:{_name}",
       scope="control")
