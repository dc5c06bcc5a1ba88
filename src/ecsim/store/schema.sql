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
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
