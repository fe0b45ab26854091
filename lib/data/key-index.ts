// Dedup and unique keys over more rows than memory should hold: every kept row's fingerprints go to a
// temporary Postgres table (dropped with the session, so a killed worker leaves nothing behind), and one
// SQL pass with window functions says which rows are duplicates and which repeat a unique key.
import { hash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { supportsCopyFromStdin, type Db } from '../storage/db.js';

/** What a run asks of the index. */
export interface KeyIndexPlan {
  /** Drop rows identical to an earlier one. */
  exact: boolean;
  /** Keep the latest row per key (by event time; ties: the later row). */
  key: boolean;
  /** Unique constraints checked on the rows that survive dedup. */
  uniques: number;
}

/** A row the index has something to say about, in position order. */
export interface RowFlag {
  /** 0-based position among the rows added. */
  pos: number;
  rowNumber: number;
  /** Dropped as an exact duplicate or replaced by a later row with the same key. */
  dropped: 'exact' | 'key' | null;
  /** Per unique constraint: whether this row repeats an earlier row's key. */
  repeats: boolean[];
}

/**
 * 16 bytes of sha256, as 32 hex digits: collision-free in practice at any row count a run can have, and made
 * on purpose so distinct rows cannot be crafted to collide. One-shot `hash` costs a sixth of `createHash` here.
 */
export function fingerprint(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 32);
}

/**
 * Text that tells apart any two lists of canonical values. JSON writes NaN and ±Infinity as null; a list holding
 * one is written with their names instead (a column holds one type, so a bare name cannot be mistaken for a value
 * of another type, and that form never starts with "[" as JSON's does).
 */
export function keyText(values: unknown[]): string {
  for (const v of values) {
    if (typeof v === 'number' && !Number.isFinite(v)) return values.map((x) => (typeof x === 'number' ? String(x) : JSON.stringify(x))).join(',');
  }
  return JSON.stringify(values);
}

const FLUSH_ROWS = 50_000;

const bytes = (hexes: Array<string | null>) => hexes.map((h) => (h === null ? null : Buffer.from(h, 'hex')));
const PAGE_ROWS = 20_000;

export class KeyIndex {
  private pos: number[] = [];
  private rowNumbers: number[] = [];
  private rowHashes: Array<string | null> = [];
  private keyHashes: Array<string | null> = [];
  private times: number[] = [];
  private uniqueHashes: string[][];

  private constructor(
    private readonly client: pg.PoolClient,
    private readonly plan: KeyIndexPlan,
    private readonly method: 'copy' | 'insert',
    private readonly spill: string,
    private readonly flags: string,
  ) {
    this.uniqueHashes = Array.from({ length: plan.uniques }, () => []);
  }

  /**
   * Opens a session-scoped temporary table. `method` defaults to COPY where the server takes it
   * (the embedded PGlite does not; there rows go in by `unnest` inserts).
   */
  static async open(db: Db, plan: KeyIndexPlan, method?: 'copy' | 'insert'): Promise<KeyIndex> {
    const chosen = method ?? ((await supportsCopyFromStdin(db)) ? 'copy' : 'insert');
    const client = await db.connect();
    const id = randomBytes(6).toString('hex');
    const index = new KeyIndex(client, plan, chosen, `ingest_keys_${id}`, `ingest_flags_${id}`);
    try {
      const uniques = Array.from({ length: plan.uniques }, (_, i) => `, u${i} bytea`).join('');
      await client.query(`create temp table ${index.spill} (pos bigint not null, src_row bigint not null, row_hash bytea, key_hash bytea, at float8 not null${uniques})`);
    } catch (err) {
      client.release();
      throw err;
    }
    return index;
  }

  /** Buffers one row's fingerprints (see `fingerprint`); `flushIfFull` sends them. */
  add(pos: number, rowNumber: number, rowHash: string | null, keyHash: string | null, at: number, uniqueHashes: string[]): void {
    this.pos.push(pos);
    this.rowNumbers.push(rowNumber);
    this.rowHashes.push(rowHash);
    this.keyHashes.push(keyHash);
    this.times.push(at);
    uniqueHashes.forEach((h, i) => this.uniqueHashes[i].push(h));
  }

  async flushIfFull(): Promise<void> {
    if (this.pos.length >= FLUSH_ROWS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pos.length === 0) return;
    const uniqueCols = this.uniqueHashes.map((_, i) => `, u${i}`).join('');
    if (this.method === 'copy') {
      const hex = (h: string | null) => (h === null ? '\\N' : `\\\\x${h}`);
      const lines = (function* (self: KeyIndex) {
        const out: string[] = [];
        for (let i = 0; i < self.pos.length; i++) {
          let line = `${self.pos[i]}\t${self.rowNumbers[i]}\t${hex(self.rowHashes[i])}\t${hex(self.keyHashes[i])}\t${self.times[i]}`;
          for (const u of self.uniqueHashes) line += `\t${hex(u[i])}`;
          out.push(line);
          if (out.length === 5_000) yield out.splice(0).join('\n') + '\n';
        }
        if (out.length > 0) yield out.join('\n') + '\n';
      })(this);
      await pipeline(Readable.from(lines), this.client.query(copyFrom(`copy ${this.spill} (pos, src_row, row_hash, key_hash, at${uniqueCols}) from stdin`)));
    } else {
      const uniqueArgs = this.uniqueHashes.map((_, i) => `, $${6 + i}::bytea[]`).join('');
      await this.client.query(
        `insert into ${this.spill} (pos, src_row, row_hash, key_hash, at${uniqueCols})
         select * from unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[], $5::float8[]${uniqueArgs})`,
        [this.pos, this.rowNumbers, bytes(this.rowHashes), bytes(this.keyHashes), this.times.map(String), ...this.uniqueHashes.map(bytes)],
      );
    }
    this.pos = [];
    this.rowNumbers = [];
    this.rowHashes = [];
    this.keyHashes = [];
    this.times = [];
    this.uniqueHashes = this.uniqueHashes.map(() => []);
  }

  /**
   * Decides every row: exact duplicates (all but the first of each row hash), then among the rest
   * the rows a key keeps (the latest `at`, ties: the later row), then among those the rows that
   * repeat an earlier unique key. Returns the duplicate counts; `flagged` lists the rows.
   */
  async resolve(): Promise<{ exact: number; byKey: number }> {
    await this.flush();
    const { exact, key, uniques } = this.plan;
    const u = Array.from({ length: uniques }, (_, i) => `u${i}`);
    const carry = ['pos', 'src_row', ...u].join(', ');
    const ctes = [
      `s0 as (select ${carry}, key_hash, at, ${exact ? 'row_number() over (partition by row_hash order by pos)' : '1'} as r from ${this.spill})`,
      `s1 as (select ${carry}, ${key ? 'row_number() over (partition by key_hash order by at desc, pos desc)' : '1'} as r from s0 where r = 1)`,
    ];
    const parts = [`select pos, src_row, 'exact' as dropped, null::boolean[] as repeats from s0 where r > 1`, `select pos, src_row, 'key', null from s1 where r > 1`];
    if (uniques > 0) {
      ctes.push(`s2 as (select pos, src_row, ${u.map((c, i) => `row_number() over (partition by ${c} order by pos) > 1 as v${i}`).join(', ')} from s1 where r = 1)`);
      parts.push(`select pos, src_row, null, array[${u.map((_, i) => `v${i}`).join(', ')}] from s2 where ${u.map((_, i) => `v${i}`).join(' or ')}`);
    }
    await this.client.query(`create temp table ${this.flags} as with ${ctes.join(', ')} ${parts.join(' union all ')}`);
    await this.client.query(`create index on ${this.flags} (pos)`);
    const { rows } = await this.client.query<{ dropped: string; n: string }>(`select dropped, count(*) as n from ${this.flags} where dropped is not null group by dropped`);
    const count = (d: string) => Number(rows.find((r) => r.dropped === d)?.n ?? 0);
    return { exact: count('exact'), byKey: count('key') };
  }

  /** The rows `resolve` flagged, in position order, a page at a time. */
  async *flagged(): AsyncGenerator<RowFlag> {
    let after = -1;
    for (;;) {
      const { rows } = await this.client.query<{ pos: string; src_row: string; dropped: 'exact' | 'key' | null; repeats: boolean[] | null }>(
        `select pos, src_row, dropped, repeats from ${this.flags} where pos > $1 order by pos limit ${PAGE_ROWS}`,
        [after],
      );
      for (const r of rows) yield { pos: Number(r.pos), rowNumber: Number(r.src_row), dropped: r.dropped, repeats: r.repeats ?? [] };
      if (rows.length < PAGE_ROWS) return;
      after = Number(rows[rows.length - 1].pos);
    }
  }

  /** Drops the tables and returns the connection; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.query(`drop table if exists ${this.spill}, ${this.flags}`);
      this.client.release();
    } catch (err) {
      // A broken connection takes its temporary tables with it; do not return it to the pool.
      this.client.release(err as Error);
    }
  }

  private closed = false;
}
