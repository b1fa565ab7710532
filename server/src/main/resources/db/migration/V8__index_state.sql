-- The HNSW index of each item table, as bulk loads and rollouts leave it (store/IndexBuilds):
--   ready     in place and valid: searches use it;
--   absent    not there: a bulk load (UpsertStream into an empty table) or a rollout's
--             backfill writes the rows first, and the index is built once they are in;
--   building  CREATE INDEX CONCURRENTLY is running, or was left invalid by a server that died
--             while it ran (pg_index.indisvalid false): the next server rebuilds it.
-- Without a ready index, searches of the table rank every row exactly.
SET LOCAL client_min_messages = warning;
ALTER TABLE collection_tables ADD COLUMN hnsw text NOT NULL DEFAULT 'ready'
  CHECK (hnsw IN ('ready', 'absent', 'building'));
UPDATE collection_tables t SET hnsw = 'absent'
  FROM rollouts r
  WHERE r.to_table = t.table_name AND NOT r.index_built AND r.state NOT IN ('finalized', 'aborted');

-- psql: the index state of each version's table, as the last column.
CREATE OR REPLACE VIEW collection_versions AS
SELECT t.collection, t.model_name, t.model_version, t.state, t.dimension, t.table_name,
       CASE WHEN to_regclass(format('public.%I', t.collection || '__v' || t.model_version)) IS NOT NULL
            THEN 'public.' || t.collection || '__v' || t.model_version END AS version_view,
       t.created_at, t.hnsw
FROM collection_tables t;
