"""Async jobs in the real ECS/EVS job schema, computed from their stored timestamps.

A job's status at time t is INIT (briefly), RUNNING until its end time, then SUCCESS or FAIL; a parent's end is
its last sub-job's end and it fails when any sub-job fails. Sub-job ids share the parent's first 28 hex digits and
end in their 1-based index (the parent ends in 0000), so a sub-job can be shown by its own id too.
"""

from __future__ import annotations

import random
from operator import itemgetter

from ecsim.timefmt import iso_millis_z

JOB_RETENTION_SECONDS = 24 * 3600  # finished jobs disappear after a day, as on the real service


def new_job_id(begin: float) -> str:
    """Creation time in milliseconds, then 64 random bits (ids in creation order keep the job index's inserts on
    its last page), then the sub-job index."""
    return f"{int(begin * 1000) % 16**12:012x}{random.getrandbits(64):016x}0000"


def sub_job_id(parent_id: str, index: int) -> str:
    return f"{parent_id[:28]}{index:04x}"


def parent_of(job_id: str) -> tuple[str, int]:
    """(parent id, sub index) for any job id; index 0 means the id is a parent."""
    if len(job_id) != 32:
        return job_id, 0
    try:
        index = int(job_id[28:], 16)
    except ValueError:
        return job_id, 0
    return f"{job_id[:28]}0000", index


def sub_job(job_type: str, begin: float, end: float, entities: dict, *, error_code: str | None = None,
            fail_reason: str | None = None) -> dict:
    return {
        "type": job_type, "begin": begin, "end": end, "entities": entities,
        "result": "FAIL" if error_code else "SUCCESS", "error_code": error_code, "fail_reason": fail_reason,
    }


def new_job(project_id: str, job_type: str, begin: float, *, subs: list[dict] | None = None,
            entities: dict | None = None, end: float | None = None, error_code: str | None = None,
            fail_reason: str | None = None, init_window: float = 0.0) -> dict:
    job_id = new_job_id(begin)
    subs = subs or []
    if subs:
        end = max([end or begin] + [s["end"] for s in subs])
        failed = next((s for s in subs if s["result"] == "FAIL"), None)
        if failed is not None and error_code is None:
            error_code, fail_reason = failed["error_code"], failed["fail_reason"]
    return {
        "id": job_id, "project_id": project_id, "type": job_type, "begin": begin,
        "end": begin if end is None else end, "entities": entities, "subs": subs,
        "result": "FAIL" if error_code else "SUCCESS", "error_code": error_code, "fail_reason": fail_reason,
        "init_window": init_window,
    }


_SHARED = ("type", "begin", "end", "result", "error_code", "fail_reason")
_shared = itemgetter(*_SHARED)


def pack(job: dict) -> dict:
    """The job as stored: when every sub-job shares all but its entities (a batch), those are stored once (a job of
    10 servers takes 900 bytes instead of 2,300)."""
    subs = job["subs"]
    if len(subs) < 2:
        return job
    values = _shared(subs[0])
    for s in subs:
        if len(s) != len(_SHARED) + 1 or _shared(s) != values:
            return job
    return {**job, "subs": [s["entities"] for s in subs], "sub": dict(zip(_SHARED, values, strict=True))}


def unpack(doc: dict) -> dict:
    shared = doc.pop("sub", None)
    if shared is not None:
        doc["subs"] = [{**shared, "entities": e} for e in doc["subs"]]
    return doc


def _status(begin: float, end: float, result: str, init_window: float, now: float) -> str:
    if now < begin + init_window and now < end:
        return "INIT"
    if now < end:
        return "RUNNING"
    return result


def _render(job_id: str, job_type: str, begin: float, end: float, result: str, error_code: str | None,
            fail_reason: str | None, entities: dict, init_window: float, now: float) -> dict:
    status = _status(begin, end, result, init_window, now)
    out: dict = {
        "status": status, "entities": entities, "job_id": job_id, "job_type": job_type,
        "begin_time": iso_millis_z(begin),
    }
    done = status in ("SUCCESS", "FAIL")
    out["end_time"] = iso_millis_z(end) if done else ""  # shared/spec/ecs.md 2: "" while running
    out["error_code"] = error_code if done else None  # ... and null error keys
    out["fail_reason"] = fail_reason if done else None
    return out


def render_sub(job: dict, index: int, now: float) -> dict:
    s = job["subs"][index - 1]
    entities = dict(s["entities"])
    done = now >= s["end"]
    if done and s["result"] == "FAIL":
        entities["errorcode_message"] = s["fail_reason"]
    return _render(sub_job_id(job["id"], index), s["type"], s["begin"], s["end"], s["result"], s["error_code"],
                   s["fail_reason"], entities, job.get("init_window", 0.0), now)


def render(job: dict, now: float) -> dict:
    if job["subs"]:
        entities = {
            "sub_jobs_total": len(job["subs"]),
            "sub_jobs": [render_sub(job, i + 1, now) for i in range(len(job["subs"]))],
        }
    else:
        entities = dict(job.get("entities") or {})
    return _render(job["id"], job["type"], job["begin"], job["end"], job["result"], job["error_code"],
                   job["fail_reason"], entities, job.get("init_window", 0.0), now)


def expired(job: dict, now: float) -> bool:
    return now > job["end"] + JOB_RETENTION_SECONDS
