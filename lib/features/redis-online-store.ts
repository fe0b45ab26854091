// The Redis/Valkey online store: one string key per (view, generation, entity) holding the entity's
// values as one JSON document, and a meta key per view naming the current generation. A read is one
// MGET of the meta and the entities' keys (one hash slot per view, so it also holds on a cluster); TTL
// is enforced on read from the event time, exactly as the Postgres store does.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { StartupError } from '../errors.js';
import type { Db } from '../storage/db.js';
import { redactPassword } from '../util/redact.js';
import { onlineFeaturesFromRow, type FeatureValue, type OnlineFeatures, type OnlineRow, type OnlineViewShape } from './online.js';
import type { OnlineStore, OnlineWrite } from './online-store.js';
import { getFeatureView } from './registry.js';

const KEY_ROOT = 'mlcycle:fs:';
/** Entities written per MULTI/EXEC: small enough not to hold Redis up, large enough to amortise round trips. */
export const REDIS_WRITE_CHUNK = 500;

interface StoredValue {
  /** Event time of the feature row, epoch ms. */
  t: number;
  /** Materialized at, epoch ms. */
  m: number;
  v: Record<string, FeatureValue>;
}

/** The meta key's JSON: which generation readers use, under which declaration, and what a read needs of it. */
interface ViewMeta {
  generation: string;
  sha256: string;
  view: OnlineViewShape;
}

/** The hash tag keeps a view's keys in one cluster slot, so one MGET reads them all. */
function viewPrefix(viewName: string): string {
  return `${KEY_ROOT}{${viewName}}:`;
}

function metaKey(viewName: string): string {
  return `${viewPrefix(viewName)}meta`;
}

/**
 * Redis keeps a value for one TTL after it expired, so a read in that span reports it `expired` with
 * its staleness as Postgres does; after that the key is reclaimed and the entity reads `missing`
 * (values are null either way).
 */
export function redisExpiryMs(eventTimeMs: number, ttlSeconds: number): number {
  return eventTimeMs + 2 * ttlSeconds * 1000;
}

export class RedisOnlineStore implements OnlineStore {
  readonly backend = 'redis' as const;
  /** Parsed meta by its stored JSON, so a read parses only the entities' values. */
  private readonly metas = new Map<string, ViewMeta>();
  /** Per view, the generation the last read saw: the next read asks for its keys in the same MGET as the meta. */
  private readonly generations = new Map<string, string>();

  private constructor(
    private readonly redis: Redis,
    private readonly db: Db,
  ) {}

  /** Connects and proves the server answers; a failure names MLCYCLE_ONLINE_STORE and the URL (password hidden). */
  static async connect(url: string, db: Db): Promise<RedisOnlineStore> {
    const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 2, enableAutoPipelining: true });
    redis.on('error', () => {}); // reconnects on its own; failed commands reject with the cause
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new StartupError(
        `Cannot reach the Redis online store at ${redactPassword(url) ?? url} (MLCYCLE_ONLINE_STORE): ${(err as Error).message}. ` +
          'Start Redis or Valkey there, or unset MLCYCLE_ONLINE_STORE to keep the online store in Postgres.',
        { cause: err },
      );
    }
    return new RedisOnlineStore(redis, db);
  }

  /**
   * One MGET of the meta and the entities' keys under the generation seen last. MGET is atomic, so
   * when the meta still names that generation the values are the current ones; when a full run has
   * switched generations since, the read is repeated under the new one.
   */
  async read(viewName: string, entityIds: readonly string[], now: number = Date.now()): Promise<OnlineFeatures[]> {
    const prefix = viewPrefix(viewName);
    for (let attempt = 0; attempt < 3; attempt++) {
      const generation = this.generations.get(viewName);
      const keys = generation === undefined ? [] : entityIds.map((id) => `${prefix}${generation}:${id}`);
      const [metaJson, ...values] = await this.redis.mget(metaKey(viewName), ...keys);
      if (metaJson === null) {
        // Never materialized here (or dropped): the registry says whether the view exists (404) and its features.
        this.generations.delete(viewName);
        const { declaration } = await getFeatureView(this.db, viewName);
        return entityIds.map((id) => onlineFeaturesFromRow(declaration, id, undefined, now));
      }
      const meta = this.parseMeta(metaJson);
      if (meta.generation !== generation) {
        this.generations.set(viewName, meta.generation);
        continue;
      }
      return entityIds.map((id, i) => {
        const raw = values[i];
        if (!raw) return onlineFeaturesFromRow(meta.view, id, undefined, now);
        const stored = JSON.parse(raw) as StoredValue;
        const row: OnlineRow = { feature_values: stored.v, event_time: new Date(stored.t), materialized_at: new Date(stored.m) };
        return onlineFeaturesFromRow(meta.view, id, row, now);
      });
    }
    throw new Error(`Feature view ${viewName} changed generation on every read attempt; retry.`);
  }

  private parseMeta(json: string): ViewMeta {
    let meta = this.metas.get(json);
    if (!meta) {
      if (this.metas.size > 1000) this.metas.clear();
      this.metas.set(json, (meta = JSON.parse(json) as ViewMeta));
    }
    return meta;
  }

  private async meta(viewName: string): Promise<ViewMeta | null> {
    const json = await this.redis.get(metaKey(viewName));
    return json === null ? null : this.parseMeta(json);
  }

  async holds(viewName: string, sha256: string): Promise<boolean> {
    return (await this.meta(viewName))?.sha256 === sha256;
  }

  /**
   * Streams the run's rows from Postgres (a cursor in `tx`) and writes them REDIS_WRITE_CHUNK entities
   * per MULTI/EXEC, each entity's value whole. An incremental run writes into the current generation;
   * a full run writes a new generation and switches the meta to it in one SET, so readers see the
   * previous run's values until then, and the old generation is deleted after.
   */
  async write(tx: pg.ClientBase, run: OnlineWrite): Promise<number> {
    const name = run.view.name;
    const prefix = viewPrefix(name);
    const generation = run.replaceAll ? randomBytes(6).toString('hex') : (await this.meta(name))?.generation;
    if (!generation) throw new Error(`The Redis online store lost feature view ${name} during the run; the next run rewrites it.`);
    const keyOf = (entityId: string) => `${prefix}${generation}:${entityId}`;
    const ttlSeconds = run.view.ttlSeconds;

    let written = 0;
    const materializedAt = Date.now();
    await eachChunk<{ entity_id: string; v: string; t: number }>(
      tx,
      `select c.entity_id, c.feature_values::text as v, (extract(epoch from c.event_time) * 1000)::float8 as t from (${run.changedSql}) c`,
      async (rows) => {
        const multi = this.redis.multi();
        for (const r of rows) {
          const expiry = redisExpiryMs(r.t, ttlSeconds);
          // Past its reclaim time already: the read would answer `missing` either way.
          if (expiry <= materializedAt) multi.del(keyOf(r.entity_id));
          else multi.set(keyOf(r.entity_id), `{"t":${r.t},"m":${materializedAt},"v":${r.v}}`, 'PXAT', expiry);
        }
        await execOrThrow(multi);
        written += rows.length;
      },
    );
    if (!run.replaceAll) {
      await eachChunk<{ entity_id: string }>(tx, run.removedSql, async (rows) => {
        await execOrThrow(this.redis.multi().del(...rows.map((r) => keyOf(r.entity_id))));
      });
      return written;
    }
    const meta: ViewMeta = { generation, sha256: run.sha256, view: { name, ttlSeconds, features: run.view.features.map((f) => ({ name: f.name })) } };
    await this.redis.set(metaKey(name), JSON.stringify(meta));
    await this.deleteKeys(name, (key) => !key.startsWith(`${prefix}${generation}:`));
    return written;
  }

  async dropView(_tx: pg.ClientBase, viewName: string): Promise<void> {
    // Deleting the meta is what readers see (every entity missing at once); the keys go after.
    await this.redis.del(metaKey(viewName));
    await this.deleteKeys(viewName, () => true);
  }

  /** Deletes the view's entity keys that `which` selects (earlier generations, runs that died before their switch). */
  private async deleteKeys(viewName: string, which: (key: string) => boolean): Promise<void> {
    const meta = metaKey(viewName);
    const stream = this.redis.scanStream({ match: `${viewPrefix(viewName)}*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      const doomed = keys.filter((k) => k !== meta && which(k));
      if (doomed.length > 0) await this.redis.unlink(...doomed);
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Runs `sql` as a server-side cursor in the open transaction `tx`, handing `fn` REDIS_WRITE_CHUNK rows at a time. */
async function eachChunk<R>(tx: pg.ClientBase, sql: string, fn: (rows: R[]) => Promise<void>): Promise<void> {
  const cursor = `fs_cur_${randomBytes(4).toString('hex')}`;
  await tx.query(`declare ${cursor} no scroll cursor for ${sql}`);
  try {
    for (;;) {
      const { rows } = await tx.query<R & pg.QueryResultRow>(`fetch ${REDIS_WRITE_CHUNK} from ${cursor}`);
      if (rows.length === 0) break;
      await fn(rows);
    }
  } finally {
    await tx.query(`close ${cursor}`).catch(() => {});
  }
}

/** EXEC answers each command's error in place; any one of them fails the run (which then retries). */
async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<void> {
  const results = await multi.exec();
  if (!results) throw new Error('Redis discarded a MULTI/EXEC transaction.');
  for (const [err] of results) if (err) throw err;
}
