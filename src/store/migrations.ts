/**
 * The store's schema, as numbered migrations applied in order inside one transaction.
 * A store records each applied migration in `schema_migrations` and carries SQLite's
 * `application_id` header field set to TIDE_APPLICATION_ID, which is how restore and
 * open tell a tide store from any other SQLite file. Migrations are append-only: a
 * released migration never changes; a schema change is a new entry at the end.
 */
import type Database from 'better-sqlite3'
import { StoreError } from './errors.ts'

/** 'tide' in ASCII, stored in the SQLite header's application_id field (a 32-bit integer). */
export const TIDE_APPLICATION_ID = 0x74696465

/** One schema step. `version` numbers are consecutive from 1. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

/** Every migration, oldest first. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema: group state, events, instances, metric history, alert deliveries, meta',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE group_state (
        group_name TEXT PRIMARY KEY,
        desired_replicas INTEGER NOT NULL,
        size_json TEXT NOT NULL,
        history_json TEXT NOT NULL,
        draining_json TEXT NOT NULL,
        protected_json TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        group_name TEXT NOT NULL,
        type TEXT NOT NULL,
        message TEXT NOT NULL,
        instance_id TEXT,
        decision_json TEXT
      );
      CREATE INDEX events_group_at ON events (group_name, at_ms);
      CREATE INDEX events_type_at ON events (type, at_ms);
      CREATE INDEX events_at ON events (at_ms);
      CREATE TABLE instances (
        group_name TEXT NOT NULL,
        id TEXT NOT NULL,
        record_json TEXT NOT NULL,
        UNIQUE (group_name, id)
      );
      CREATE TABLE local_instances (
        group_name TEXT NOT NULL,
        id TEXT NOT NULL,
        entry_json TEXT NOT NULL,
        UNIQUE (group_name, id)
      );
      CREATE TABLE metric_seconds (
        group_name TEXT NOT NULL,
        series TEXT NOT NULL,
        at_s INTEGER NOT NULL,
        sum REAL NOT NULL,
        count INTEGER NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        PRIMARY KEY (group_name, series, at_s)
      ) WITHOUT ROWID;
      CREATE INDEX metric_seconds_at ON metric_seconds (at_s);
      CREATE TABLE metric_minutes (
        group_name TEXT NOT NULL,
        series TEXT NOT NULL,
        at_min INTEGER NOT NULL,
        sum REAL NOT NULL,
        count INTEGER NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        PRIMARY KEY (group_name, series, at_min)
      ) WITHOUT ROWID;
      CREATE INDEX metric_minutes_at ON metric_minutes (at_min);
      CREATE TABLE alert_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        group_name TEXT NOT NULL,
        alert TEXT NOT NULL,
        event_type TEXT NOT NULL,
        url TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status INTEGER,
        error TEXT
      );
      CREATE INDEX alert_deliveries_at ON alert_deliveries (at_ms);
    `,
  },
  {
    version: 2,
    name: 'group status: the latest status of each group, as JSON',
    sql: `
      CREATE TABLE group_status (
        group_name TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        status_json TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "operator state: each group's pause, manual scale and standby instances, as JSON",
    sql: `
      CREATE TABLE group_operator (
        group_name TEXT PRIMARY KEY,
        state_json TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: "group records: each group's learned state, unfinished operations and backup runs, as JSON, one row per (group, kind)",
    sql: `
      CREATE TABLE group_records (
        group_name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('learned', 'operations', 'backups')),
        record_json TEXT NOT NULL,
        PRIMARY KEY (group_name, kind)
      ) WITHOUT ROWID;
    `,
  },
]

/** The newest schema version this tide knows. */
export const LATEST_SCHEMA_VERSION = migrations.length

/** What a file holds, as far as tide is concerned. */
export interface SchemaInfo {
  /** The SQLite header's application_id (TIDE_APPLICATION_ID for a tide store, 0 for a fresh file). */
  readonly applicationId: number
  /** Highest applied migration; 0 when none. */
  readonly version: number
  /** Whether the database has any table at all (a fresh file has none). */
  readonly empty: boolean
}

/** Reads the application id and schema version without changing anything. */
export function readSchemaInfo(db: Database.Database): SchemaInfo {
  const applicationId = db.pragma('application_id', { simple: true }) as number
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[]
  let version = 0
  if (tables.includes('schema_migrations')) {
    version = (db.prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations').pluck().get() as number | null) ?? 0
  }
  return { applicationId, version, empty: tables.length === 0 }
}

/**
 * Throws unless `info` describes a tide store this tide can use: application id
 * TIDE_APPLICATION_ID (or a fresh empty file, when `allowEmpty`) and a version no
 * newer than LATEST_SCHEMA_VERSION.
 */
export function assertTideStore(info: SchemaInfo, path: string, allowEmpty: boolean): void {
  if (info.empty && info.applicationId === 0) {
    if (allowEmpty) return
    throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', path, `${path} is an empty SQLite database, not a tide store`)
  }
  if (info.applicationId !== TIDE_APPLICATION_ID || info.version === 0) {
    throw new StoreError(
      'TIDE_ERR_STORE_NOT_A_STORE',
      path,
      `${path} is not a tide store (SQLite application_id ${info.applicationId}, schema version ${info.version}; a tide store has application_id ${TIDE_APPLICATION_ID})`,
    )
  }
  if (info.version > LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      'TIDE_ERR_STORE_VERSION',
      path,
      `${path} has store schema version ${info.version}, newer than this tide knows (${LATEST_SCHEMA_VERSION}); use a newer tide`,
    )
  }
}

/**
 * Throws unless the database is a tide store at exactly LATEST_SCHEMA_VERSION, changing nothing:
 * what a reader (`tide status --store`) checks instead of migrating, so that a newer tide's
 * command never upgrades the store of an older tide that is running on it.
 */
export function assertCurrentStore(db: Database.Database, path: string): void {
  const info = readSchemaInfo(db)
  assertTideStore(info, path, false)
  if (info.version < LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      'TIDE_ERR_STORE_VERSION',
      path,
      `${path} has store schema version ${info.version}, older than this tide's ${LATEST_SCHEMA_VERSION}; a reader does not migrate a store: read it with the tide that writes it, or let this tide's \`tide up\` migrate it`,
    )
  }
}

/**
 * Brings the database to LATEST_SCHEMA_VERSION in one IMMEDIATE transaction, so a
 * crash mid-way leaves the old schema intact. Returns the versions applied (empty
 * when already current). Throws StoreError for a foreign or newer file.
 */
export function migrate(db: Database.Database, path: string): number[] {
  const run = db.transaction(() => {
    const info = readSchemaInfo(db)
    assertTideStore(info, path, true)
    const applied: number[] = []
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)')
    for (const m of migrations) {
      if (m.version <= info.version) continue
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(m.version, m.name)
      applied.push(m.version)
    }
    if (info.applicationId !== TIDE_APPLICATION_ID) db.pragma(`application_id = ${TIDE_APPLICATION_ID}`)
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION}`)
    return applied
  })
  return run.immediate()
}
