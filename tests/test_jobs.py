"""Jobs as the domain keeps them (no HTTP): ids, and the packed form a batch job is stored in."""

from __future__ import annotations

import copy

from ecsim.domain import jobs


def batch(n: int, **sub: object) -> dict:
    subs = [jobs.sub_job("stopSingleServer", 100.0, 105.0, {"server_id": f"s{i}"}) for i in range(n)]
    for key, value in sub.items():
        subs[-1][key] = value
    return jobs.new_job("p1", "stopServer", 100.0, subs=subs)


def test_a_batch_is_stored_once_per_shared_field_and_read_back_whole():
    job = batch(10)
    packed = jobs.pack(copy.deepcopy(job))
    assert packed["subs"] == [{"server_id": f"s{i}"} for i in range(10)] and packed["sub"]["end"] == 105.0
    assert jobs.unpack(packed) == job
    assert jobs.render(jobs.unpack(jobs.pack(copy.deepcopy(job))), 200.0) == jobs.render(job, 200.0)


def test_sub_jobs_that_differ_are_stored_as_they_are():
    failed = batch(3, result="FAIL", error_code="Ecs.0111", fail_reason="no disk")
    assert jobs.pack(failed) is failed and jobs.unpack(copy.deepcopy(failed)) == failed
    single = batch(1)
    assert jobs.pack(single) is single
    assert jobs.new_job("p1", "x", 1.0, entities={"server_id": "s"})["subs"] == []


def test_ids_follow_creation_time_and_name_their_sub_jobs():
    first, later = jobs.new_job_id(1000.0), jobs.new_job_id(1000.5)
    assert len(first) == 32 and first.endswith("0000") and first < later and first != jobs.new_job_id(1000.0)
    assert jobs.parent_of(jobs.sub_job_id(first, 3)) == (first, 3) and jobs.parent_of(first) == (first, 0)
