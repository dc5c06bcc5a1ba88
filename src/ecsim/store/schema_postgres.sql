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
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    seq BIGSERIAL PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL, request_id TEXT, user_id TEXT, user_name TEXT, operation TEXT,
    allowed INTEGER NOT NULL, method TEXT, path TEXT, project_id TEXT, principal TEXT NOT NULL,
    decision TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_user ON decisions (user_id, seq);
CREATE INDEX IF NOT EXISTS decisions_user_name ON decisions (user_name, seq);
CREATE INDEX IF NOT EXISTS decisions_op ON decisions (operation, seq);
CREATE INDEX IF NOT EXISTS decisions_ts ON decisions (ts);
