-- Tables (one per measurement of a bucket), their columns, and the Parquet files holding their
-- persisted rows. Kept in step with ../postgres/0002_tables_and_files.sql.
--
-- Deleting a bucket deletes its tables, their columns and its file records (the foreign keys
-- cascade; the code deletes them explicitly too).

CREATE TABLE tables (
    id         TEXT PRIMARY KEY NOT NULL,
    bucket_id  TEXT NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    explicit   INTEGER NOT NULL CHECK (explicit IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (bucket_id, name)
);

-- `time` is not stored: every table has it. `position` is the order added, from 0 without gaps;
-- `kind` is ColumnKind::as_str.
CREATE TABLE columns (
    table_id TEXT NOT NULL REFERENCES tables (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    UNIQUE (table_id, name),
    UNIQUE (table_id, position)
);

CREATE TABLE parquet_files (
    id            TEXT PRIMARY KEY NOT NULL,
    bucket_id     TEXT NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    table_id      TEXT NOT NULL REFERENCES tables (id) ON DELETE CASCADE,
    partition_day INTEGER NOT NULL,
    path          TEXT NOT NULL,
    min_time      INTEGER NOT NULL,
    max_time      INTEGER NOT NULL,
    row_count     INTEGER NOT NULL,
    size_bytes    INTEGER NOT NULL,
    level         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX parquet_files_by_bucket
    ON parquet_files (bucket_id, table_id, partition_day, min_time);
-- For the cascade from `tables`.
CREATE INDEX parquet_files_by_table ON parquet_files (table_id);
