-- The catalog's first schema. Kept in step with ../postgres/0001_init.sql: same tables, columns,
-- constraints and indexes; only the type names and PostgreSQL's byte-wise "C" collation differ.
--
-- IDs are 16 lower-case hex digits, so their text order is their numeric order. Times are
-- nanoseconds since the Unix epoch. Flags are 0/1 integers (the same on both backends).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE buckets (
    id                           TEXT PRIMARY KEY NOT NULL,
    org_id                       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name                         TEXT NOT NULL,
    description                  TEXT NOT NULL,
    bucket_type                  TEXT NOT NULL,
    retention_seconds            INTEGER NOT NULL,
    shard_group_duration_seconds INTEGER,
    schema_type                  TEXT NOT NULL,
    created_at                   INTEGER NOT NULL,
    updated_at                   INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX buckets_by_name ON buckets (name, id);

CREATE TABLE authorizations (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    status      TEXT NOT NULL,
    -- JSON array of permissions, as serde_json writes Vec<Permission>.
    permissions TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX authorizations_by_org ON authorizations (org_id, created_at, id);
CREATE INDEX authorizations_by_user ON authorizations (user_id);
CREATE INDEX authorizations_by_created ON authorizations (created_at, id);

CREATE TABLE dbrps (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    bucket_id  TEXT NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    db_name    TEXT NOT NULL,
    rp_name    TEXT NOT NULL,
    is_default INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    UNIQUE (org_id, db_name, rp_name)
);
-- At most one default per (org, database); the code keeps "at least one".
CREATE UNIQUE INDEX dbrps_one_default ON dbrps (org_id, db_name) WHERE is_default = 1;
CREATE INDEX dbrps_by_bucket ON dbrps (bucket_id);
