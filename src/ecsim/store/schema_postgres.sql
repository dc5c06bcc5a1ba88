-- ecsim schema for PostgreSQL. Applied on every start (under an advisory lock); statements are idempotent.
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    name TEXT,
    status TEXT,
    ref TEXT,
    created DOUBLE PRECISION NOT NULL DEFAULT 0,
    settle_at DOUBLE PRECISION,
    version INTEGER NOT NULL DEFAULT 1,
    doc JSONB NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS resources_scope_created ON resources (kind, scope, created, id);
CREATE INDEX IF NOT EXISTS resources_scope_name ON resources (kind, scope, name);
CREATE INDEX IF NOT EXISTS resources_scope_status ON resources (kind, scope, status, created, id);
CREATE INDEX IF NOT EXISTS resources_ref ON resources (kind, ref);
CREATE INDEX IF NOT EXISTS resources_settle ON resources (settle_at) WHERE settle_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    finished DOUBLE PRECISION NOT NULL,
    doc JSONB NOT NULL
);
-- Answers to requests that carried an idempotency key (X-Client-Token), replayed for a repeat; kept a day, as jobs.
CREATE TABLE IF NOT EXISTS client_tokens (
    key TEXT PRIMARY KEY,
    created DOUBLE PRECISION NOT NULL,
    doc JSONB NOT NULL
);
-- Filterable attributes of resources (see store/query.py): a list with a facet filter walks the first index in
-- creation order; the second serves per-row checks and deletes.
CREATE TABLE IF NOT EXISTS facets (
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facets_lookup ON facets (kind, scope, key, value, created, id);
CREATE INDEX IF NOT EXISTS facets_owner ON facets (kind, id, key, value);
-- How many resources of each kind a scope holds (maintained with every insert and delete), so that the total
-- of an unfiltered list costs one lookup instead of an index walk.
CREATE TABLE IF NOT EXISTS counts (
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, scope)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    seq BIGSERIAL PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL, request_id TEXT, user_id TEXT, user_name TEXT, operation TEXT,
    allowed INTEGER NOT NULL, method TEXT, path TEXT, project_id TEXT, principal TEXT NOT NULL,
    decision TEXT NOT NULL, resources TEXT
);
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS resources TEXT;
-- No secondary indexes: each cost an insert as much as the row itself, on every authorized request, while the
-- log is read rarely, newest first, where a walk down the primary key finds recent matches at once (a filter that
-- matches nothing reads the whole log: tens of milliseconds at its cap of 200,000 rows).
DROP INDEX IF EXISTS decisions_user;
DROP INDEX IF EXISTS decisions_user_name;
DROP INDEX IF EXISTS decisions_op;
DROP INDEX IF EXISTS decisions_ts;
