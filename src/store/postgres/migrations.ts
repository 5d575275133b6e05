/**
 * The PostgreSQL store's schema, as numbered migrations (append-only: a released migration never
 * changes; a schema change is a new entry at the end). `migrate` applies the missing ones on open,
 * all in ONE transaction that first takes a transaction-scoped advisory lock, so that two tide
 * processes starting together do not both migrate: the second waits for the first's commit, then
 * finds nothing left to do. Each applied version is recorded in `tide_schema_migrations`.
 *
 * Layout (every table is prefixed `tide_`, so the store can share a database with others):
 * - `tide_lease`: leadership leases with a fencing epoch (written by the election, read by the
 *   fence of `tide_flush`);
 * - `tide_group_kv`: one jsonb row per (group, kind) of per-group state ('state', 'status',
 *   'operator', and whatever kinds come next: a new kind needs no migration);
 * - `tide_local_instances`: the local provider's instance registry, in first-put order (`seq`);
 * - `tide_events`, `tide_alert_deliveries`: append-only logs;
 * - `tide_metric_seconds`, `tide_metric_minutes`: the two-tier metric history (as SQLite's);
 * - `tide_meta`: small settings (the 1-second tier's cutoff);
 * - `tide_flush_marks`: the last batch applied per writer, so that a batch resent after a lost
 *   answer is not applied twice;
 * - `tide_flush(batch jsonb, fence jsonb)`: applies one tick's batch (postgres-store.ts).
 */
import type pg from 'pg'
import { StoreError } from '../errors.ts'

/** One schema step; `version` numbers are consecutive from 1. */
export interface PgMigration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

/** The advisory lock key migrations take (pg_advisory_xact_lock): 'tide' in ASCII, then 'mig'. */
export const MIGRATION_LOCK_KEY = 0x74696465_6d6967n

/** Every migration, oldest first. */
export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema: lease, per-group kv, local instances, events, metric history, deliveries, meta, flush marks, tide_flush',
    sql: `
      CREATE TABLE tide_lease (
        name text PRIMARY KEY,
        holder text,
        epoch bigint NOT NULL DEFAULT 0,
        renewed_at timestamptz,
        duration_ms integer NOT NULL
      );
      CREATE TABLE tide_group_kv (
        group_name text NOT NULL,
        kind text NOT NULL,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_name, kind)
      );
      CREATE TABLE tide_local_instances (
        group_name text NOT NULL,
        id text NOT NULL,
        seq bigserial NOT NULL,
        entry jsonb NOT NULL,
        PRIMARY KEY (group_name, id)
      );
      CREATE TABLE tide_events (
        id bigserial PRIMARY KEY,
        at_ms bigint NOT NULL,
        group_name text NOT NULL,
        type text NOT NULL,
        message text NOT NULL,
        instance_id text,
        decision jsonb
      );
      CREATE INDEX tide_events_group_at ON tide_events (group_name, at_ms);
      CREATE INDEX tide_events_type_at ON tide_events (type, at_ms);
      CREATE INDEX tide_events_at ON tide_events (at_ms);
      CREATE TABLE tide_metric_seconds (
        group_name text NOT NULL,
        series text NOT NULL,
        at_s bigint NOT NULL,
        sum double precision NOT NULL,
        count integer NOT NULL,
        min double precision NOT NULL,
        max double precision NOT NULL,
        PRIMARY KEY (group_name, series, at_s)
      );
      CREATE INDEX tide_metric_seconds_at ON tide_metric_seconds (at_s);
      CREATE TABLE tide_metric_minutes (
        group_name text NOT NULL,
        series text NOT NULL,
        at_min bigint NOT NULL,
        sum double precision NOT NULL,
        count integer NOT NULL,
        min double precision NOT NULL,
        max double precision NOT NULL,
        PRIMARY KEY (group_name, series, at_min)
      );
      CREATE INDEX tide_metric_minutes_at ON tide_metric_minutes (at_min);
      CREATE TABLE tide_alert_deliveries (
        id bigserial PRIMARY KEY,
        delivery_id text NOT NULL,
        at_ms bigint NOT NULL,
        group_name text NOT NULL,
        alert text NOT NULL,
        event_type text NOT NULL,
        url text NOT NULL,
        attempt integer NOT NULL,
        outcome text NOT NULL,
        status integer,
        error text
      );
      CREATE INDEX tide_alert_deliveries_at ON tide_alert_deliveries (at_ms);
      CREATE INDEX tide_alert_deliveries_group ON tide_alert_deliveries (group_name, at_ms);
      CREATE TABLE tide_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE tide_flush_marks (writer text PRIMARY KEY, seq bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());

      -- One tick's writes in one call (one round trip, one transaction): flush is
      -- {writer, batches: [{seq, deleteGroups, kv, instances, events, seconds, minutes, deliveries, prune}]},
      -- the batches in order. With a fence, nothing is written unless the lease row still has the
      -- fence's holder and epoch (read FOR SHARE: an election cannot change it until this commits);
      -- the answer says so instead. A batch whose seq this writer had applied already (resent
      -- after a lost answer) is skipped.
      CREATE FUNCTION tide_flush(flush jsonb, fence jsonb) RETURNS jsonb LANGUAGE plpgsql AS $fn$
      DECLARE
        l record;
        done bigint;
        batch jsonb;
        p jsonb;
        applied integer := 0;
        skipped integer := 0;
        w text := flush->>'writer';
      BEGIN
        IF fence IS NOT NULL AND jsonb_typeof(fence) = 'object' THEN
          SELECT holder, epoch INTO l FROM tide_lease WHERE name = fence->>'lease' FOR SHARE;
          IF NOT FOUND THEN
            RETURN jsonb_build_object('fenced', true);
          END IF;
          IF l.holder IS DISTINCT FROM fence->>'holder' OR l.epoch <> (fence->>'epoch')::bigint THEN
            RETURN jsonb_build_object('fenced', true, 'holder', l.holder, 'epoch', l.epoch);
          END IF;
        END IF;
        SELECT seq INTO done FROM tide_flush_marks WHERE writer = w FOR UPDATE;
        FOR batch IN SELECT e FROM jsonb_array_elements(flush->'batches') WITH ORDINALITY AS x(e, n) ORDER BY n LOOP
          IF done IS NOT NULL AND done >= (batch->>'seq')::bigint THEN
            skipped := skipped + 1;
            CONTINUE;
          END IF;
          done := (batch->>'seq')::bigint;
          applied := applied + 1;

          DELETE FROM tide_group_kv WHERE group_name IN (SELECT jsonb_array_elements_text(batch->'deleteGroups'));
          DELETE FROM tide_group_kv k USING jsonb_array_elements(batch->'kv') e
            WHERE jsonb_typeof(e->'v') = 'null' AND k.group_name = e->>'g' AND k.kind = e->>'k';
          INSERT INTO tide_group_kv AS k (group_name, kind, value, updated_at)
            SELECT e->>'g', e->>'k', e->'v', now() FROM jsonb_array_elements(batch->'kv') e WHERE jsonb_typeof(e->'v') <> 'null'
            ON CONFLICT (group_name, kind) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;

          DELETE FROM tide_local_instances i USING jsonb_array_elements(batch->'instances') e
            WHERE jsonb_typeof(e->'e') = 'null' AND i.group_name = e->>'g' AND i.id = e->>'id';
          INSERT INTO tide_local_instances AS i (group_name, id, entry)
            SELECT e->>'g', e->>'id', e->'e' FROM jsonb_array_elements(batch->'instances') WITH ORDINALITY AS x(e, n)
            WHERE jsonb_typeof(e->'e') <> 'null' ORDER BY n
            ON CONFLICT (group_name, id) DO UPDATE SET entry = excluded.entry;

          INSERT INTO tide_events (at_ms, group_name, type, message, instance_id, decision)
            SELECT (e->>'at')::bigint, e->>'g', e->>'t', e->>'m', e->>'i', CASE WHEN jsonb_typeof(e->'d') = 'object' THEN e->'d' END
            FROM jsonb_array_elements(batch->'events') WITH ORDINALITY AS x(e, n) ORDER BY n;

          INSERT INTO tide_metric_seconds AS m (group_name, series, at_s, sum, count, min, max)
            SELECT e->>'g', e->>'s', (e->>'t')::bigint, (e->>'sum')::float8, (e->>'n')::int, (e->>'lo')::float8, (e->>'hi')::float8
            FROM jsonb_array_elements(batch->'seconds') e
            ON CONFLICT (group_name, series, at_s) DO UPDATE SET sum = m.sum + excluded.sum, count = m.count + excluded.count,
              min = LEAST(m.min, excluded.min), max = GREATEST(m.max, excluded.max);
          INSERT INTO tide_metric_minutes AS m (group_name, series, at_min, sum, count, min, max)
            SELECT e->>'g', e->>'s', (e->>'t')::bigint, (e->>'sum')::float8, (e->>'n')::int, (e->>'lo')::float8, (e->>'hi')::float8
            FROM jsonb_array_elements(batch->'minutes') e
            ON CONFLICT (group_name, series, at_min) DO UPDATE SET sum = m.sum + excluded.sum, count = m.count + excluded.count,
              min = LEAST(m.min, excluded.min), max = GREATEST(m.max, excluded.max);

          INSERT INTO tide_alert_deliveries (delivery_id, at_ms, group_name, alert, event_type, url, attempt, outcome, status, error)
            SELECT e->>'id', (e->>'at')::bigint, e->>'g', e->>'alert', e->>'type', e->>'url', (e->>'attempt')::int, e->>'outcome', (e->>'status')::int, e->>'error'
            FROM jsonb_array_elements(batch->'deliveries') WITH ORDINALITY AS x(e, n) ORDER BY n;

          p := batch->'prune';
          IF p IS NOT NULL AND jsonb_typeof(p) = 'object' THEN
            DELETE FROM tide_metric_seconds WHERE at_s < (p->>'secondsBefore')::bigint;
            DELETE FROM tide_metric_minutes WHERE at_min < (p->>'minutesBefore')::bigint;
            INSERT INTO tide_meta (key, value) VALUES ('metric_seconds_cutoff_ms', p->>'secondsCutoffMs')
              ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE tide_meta.value::float8 < excluded.value::float8;
            IF p ? 'eventsBefore' THEN
              DELETE FROM tide_events WHERE at_ms < (p->>'eventsBefore')::bigint;
              DELETE FROM tide_alert_deliveries WHERE at_ms < (p->>'eventsBefore')::bigint;
              DELETE FROM tide_flush_marks WHERE at < now() - interval '7 days';
            END IF;
          END IF;
        END LOOP;
        IF applied > 0 THEN
          INSERT INTO tide_flush_marks (writer, seq, at) VALUES (w, done, now())
            ON CONFLICT (writer) DO UPDATE SET seq = excluded.seq, at = excluded.at;
        END IF;
        RETURN jsonb_build_object('applied', applied, 'skipped', skipped);
      END
      $fn$;
    `,
  },
]

/** The newest schema version this tide knows. */
export const PG_SCHEMA_VERSION = pgMigrations.length

/**
 * Throws unless the database holds a tide store at exactly this tide's schema, changing nothing:
 * what a reader (`tide status --store`) checks instead of migrating, so that a newer tide's
 * command never upgrades the store of an older tide that is running on it. StoreError
 * TIDE_ERR_STORE_NOT_A_STORE without tide's tables, TIDE_ERR_STORE_VERSION for another version.
 */
export async function assertCurrentPostgres(client: pg.ClientBase, location: string, migrations: readonly PgMigration[] = pgMigrations): Promise<void> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass('tide_schema_migrations') IS NOT NULL AS present`)
  if (exists.rows[0]?.present !== true) {
    throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', location, `${location} holds no tide store (no tide_schema_migrations table); a tide up on it creates one`)
  }
  const applied = new Set((await client.query<{ version: number }>('SELECT version FROM tide_schema_migrations')).rows.map((r) => r.version))
  const newest = Math.max(0, ...applied)
  if (newest > migrations.length) {
    throw new StoreError('TIDE_ERR_STORE_VERSION', location, `store ${location} has schema version ${newest}, newer than this tide knows (${migrations.length}); run the newer tide`)
  }
  const missing = migrations.filter((m) => !applied.has(m.version)).map((m) => m.version)
  if (missing.length > 0) {
    throw new StoreError(
      'TIDE_ERR_STORE_VERSION',
      location,
      `store ${location} has schema version ${newest}, older than this tide's ${migrations.length}; a reader does not migrate a store: read it with the tide that writes it, or let this tide's \`tide up\` migrate it`,
    )
  }
}

/**
 * Brings the database's schema up to date in one transaction under the migration advisory lock.
 * Returns the versions it applied (none when another process did, or nothing was missing).
 * Throws StoreError TIDE_ERR_STORE_VERSION when the database has a version this tide does not
 * know (written by a newer tide); any other failure rolls back everything and is thrown as is.
 * `location` (the redacted URL) names the store in messages.
 */
export async function migratePostgres(client: pg.ClientBase, location: string, migrations: readonly PgMigration[] = pgMigrations): Promise<number[]> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()])
    await client.query('CREATE TABLE IF NOT EXISTS tide_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())')
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM tide_schema_migrations')).rows.map((r) => r.version))
    const known = new Set(migrations.map((m) => m.version))
    const unknown = [...applied].filter((v) => !known.has(v)).sort((a, b) => a - b)
    if (unknown.length > 0) {
      throw new StoreError(
        'TIDE_ERR_STORE_VERSION',
        location,
        `store ${location} has schema version ${Math.max(...unknown)}, newer than this tide knows (${migrations.length}); run the newer tide`,
      )
    }
    const done: number[] = []
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      await client.query(m.sql)
      await client.query('INSERT INTO tide_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      done.push(m.version)
    }
    await client.query('COMMIT')
    return done
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  }
}
