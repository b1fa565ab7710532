-- Rollouts: moving a collection from one model version to another (RolloutService).
SET LOCAL client_min_messages = warning;

-- Bumped by every change of which tables a collection writes (a rollout starting, promote,
-- rollback, finalize, abort). A write locks the row FOR SHARE and checks the epoch it
-- embedded for, so no write lands in a set of tables that changed under it.
ALTER TABLE collections ADD COLUMN epoch bigint NOT NULL DEFAULT 0;

-- Each table's own dimension: a rollout's target may embed in another size.
ALTER TABLE collection_tables ADD COLUMN dimension integer;
ALTER TABLE collection_tables ADD COLUMN model_name text;
UPDATE collection_tables t SET dimension = c.dimension, model_name = c.model_name
  FROM collections c WHERE c.name = t.collection;
ALTER TABLE collection_tables ALTER COLUMN dimension SET NOT NULL;
ALTER TABLE collection_tables ALTER COLUMN model_name SET NOT NULL;
-- active: the table the view shows and searches use; shadow: a rollout's target before it is
-- promoted (or after a rollback); previous: the table a promote replaced, kept for rollback
-- until the rollout is finalized; retired: kept after finalize (items only it holds).
ALTER TABLE collection_tables DROP CONSTRAINT collection_tables_state_check;
ALTER TABLE collection_tables ADD CONSTRAINT collection_tables_state_check
  CHECK (state IN ('active', 'shadow', 'previous', 'retired'));

CREATE TABLE rollouts (
  id               bigserial PRIMARY KEY,
  collection       text NOT NULL REFERENCES collections (name) ON DELETE CASCADE,
  from_model       text NOT NULL,
  from_version     bigint NOT NULL,
  from_table       text NOT NULL,
  from_dimension   integer NOT NULL,
  to_model         text NOT NULL,
  to_version       bigint NOT NULL,
  to_table         text NOT NULL,
  to_dimension     integer NOT NULL,
  state            text NOT NULL CHECK (state IN ('pending', 'backfilling', 'paused', 'ready', 'promoted',
                     'rolled_back', 'finalized', 'failed', 'aborted')),
  -- what became of items that cannot be re-embedded (no source, or a precomputed vector)
  unembeddable     text NOT NULL CHECK (unembeddable IN ('fail', 'drop', 'keep_in_old')),
  -- items per second over every server together; 0: as fast as live traffic leaves room for
  rate_limit       double precision NOT NULL DEFAULT 0 CHECK (rate_limit >= 0),
  -- the rate limiter's next free slot (a shared virtual clock: claims advance it)
  rate_slot        timestamptz NOT NULL DEFAULT now(),
  total            bigint NOT NULL,
  backfilled       bigint NOT NULL DEFAULT 0,
  unembeddable_count bigint NOT NULL DEFAULT 0,
  -- the HNSW index of the target is built once the backfill has written its rows
  index_built      boolean NOT NULL DEFAULT false,
  evaluation       jsonb,
  error            text NOT NULL DEFAULT '',
  -- finalize by itself this long after the promote; null: only when asked
  finalize_after   interval,
  created_by       text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  backfill_started_at timestamptz,
  ready_at         timestamptz,
  promoted_at      timestamptz,
  finished_at      timestamptz
);
-- one open rollout per collection
CREATE UNIQUE INDEX rollouts_one_open ON rollouts (collection) WHERE state NOT IN ('finalized', 'aborted');

-- The backfill's worklist: one row per item still to re-embed. Servers claim rows with a
-- lease (FOR UPDATE SKIP LOCKED); the transaction that writes an item's new vector deletes its
-- row, and only while the lease is still its own. A dual write of the item deletes the row
-- too, so the backfill never replaces or resurrects what a client wrote.
CREATE TABLE rollout_work (
  rollout_id  bigint NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  item_id     text NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  not_before  timestamptz NOT NULL DEFAULT '-infinity',
  lease_until timestamptz NOT NULL DEFAULT '-infinity',
  leased_by   text,
  failed      boolean NOT NULL DEFAULT false,
  last_error  text,
  PRIMARY KEY (rollout_id, item_id)
);
CREATE INDEX rollout_work_claimable ON rollout_work (rollout_id, not_before) WHERE NOT failed;

-- psql: every collection with its tables (and the view of each version, where it has one:
-- collections made before rollouts get theirs at their first rollout).
CREATE VIEW collection_versions AS
SELECT t.collection, t.model_name, t.model_version, t.state, t.dimension, t.table_name,
       CASE WHEN to_regclass(format('public.%I', t.collection || '__v' || t.model_version)) IS NOT NULL
            THEN 'public.' || t.collection || '__v' || t.model_version END AS version_view,
       t.created_at
FROM collection_tables t;

-- psql: every rollout with its progress.
CREATE VIEW rollout_progress AS
SELECT r.id, r.collection, r.from_model || '@' || r.from_version AS from_version,
       r.to_model || '@' || r.to_version AS to_version, r.state, r.total,
       r.total - w.remaining - w.failed AS done, w.remaining, w.failed, r.unembeddable_count,
       r.rate_limit, r.index_built,
       CASE WHEN r.total = 0 THEN 1.0 ELSE round((r.total - w.remaining - w.failed)::numeric / r.total, 4) END
         AS fraction_done,
       -- the backfill's rate since it started, and the time left at that rate
       round((r.backfilled / nullif(extract(epoch FROM coalesce(r.ready_at, now()) - r.backfill_started_at), 0))
         ::numeric, 1) AS items_per_second,
       CASE WHEN w.remaining = 0 THEN interval '0'
            WHEN r.backfilled > 0 AND r.backfill_started_at IS NOT NULL
            THEN (coalesce(r.ready_at, now()) - r.backfill_started_at) * w.remaining / r.backfilled END AS eta,
       r.error, r.created_at, r.ready_at, r.promoted_at, r.finished_at
FROM rollouts r
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE NOT failed) AS remaining, count(*) FILTER (WHERE failed) AS failed
  FROM rollout_work WHERE rollout_id = r.id) w;
