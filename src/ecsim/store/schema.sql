-- ecsim schema (SQLite and PostgreSQL). Applied on every start; statements are idempotent.
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
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS resources_scope_created ON resources (kind, scope, created, id);
CREATE INDEX IF NOT EXISTS resources_scope_name ON resources (kind, scope, name);
CREATE INDEX IF NOT EXISTS resources_scope_status ON resources (kind, scope, status, created, id);
CREATE INDEX IF NOT EXISTS resources_ref ON resources (kind, ref);
CREATE INDEX IF NOT EXISTS resources_settle ON resources (settle_at) WHERE settle_at IS NOT NULL;
-- Async jobs: appended by every async operation, read by id, forgotten a day after they end.
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    finished DOUBLE PRECISION NOT NULL,
    doc TEXT NOT NULL
);
-- Answers to requests that carried an idempotency key (X-Client-Token), replayed for a repeat; kept a day, as jobs.
CREATE TABLE IF NOT EXISTS client_tokens (
    key TEXT PRIMARY KEY,
    created DOUBLE PRECISION NOT NULL,
    doc TEXT NOT NULL
);
-- Filterable attributes of resources (see store/query.py): a list with a facet filter walks the first index in
-- creation order; the second serves per-row checks and deletes.
CREATE TABLE IF NOT EXISTS facets (
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL NOT NULL,
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
