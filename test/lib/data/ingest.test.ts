import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseContract, type DataContract } from '../../../lib/data/contract.js';
import { formatReport, type PipelineInput } from '../../../lib/data/ingest.js';
import { profileTable } from '../../../lib/data/profile.js';
import { ValidationError } from '../../../lib/errors.js';
import { ArtifactStore } from '../../../lib/storage/artifacts.js';
import { rowsOf, runCsvPipeline } from './pipeline-helpers.js';

let dir: string;
let artifacts: ArtifactStore;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ingest-'));
  artifacts = new ArtifactStore(path.join(dir, 'artifacts'));
});

// Dedup and unique keys need Postgres: they are tested in test/workflows/ingestion-pipeline.test.ts.
const run = (csv: string, contract?: unknown, extra: Partial<PipelineInput> = {}) => runCsvPipeline({ dir, artifacts }, csv, contract, extra);

describe('parseContract', () => {
  it('accepts a full contract', () => {
    const c = parseContract({
      columns: [
        { name: 'id', type: 'float64', notNull: true },
        { name: 'at', type: 'timestamp' },
      ],
      unique: [{ columns: ['id'] }],
      eventTime: 'at',
      freshness: { maxAgeSeconds: 60 },
      rowCount: { min: 1 },
      dedup: { exact: true, key: ['id'] },
    });
    expect(c.columns).toHaveLength(2);
  });

  it.each([
    [{ columns: [] }, /\/columns: must not have fewer than 1 items/],
    [{ columns: [{ name: 'a', type: 'int' }] }, /does not parse.*\/columns\/0\/type/],
    [{ columns: [{ name: 'a', type: 'utf8', pattern: { regex: '(' } }] }, /pattern.*Invalid regular expression/],
    [{ columns: [{ name: 'a', type: 'float64', range: { min: 5, max: 1 } }] }, /min 5 is above max 1/],
    [{ columns: [{ name: 'a', type: 'float64' }], unique: [{ columns: ['b'] }] }, /\/unique\/0: column "b" is not declared/],
    [{ columns: [{ name: 'a', type: 'float64' }], colums: [] }, /additional properties/],
    [{ columns: [{ name: 'a', type: 'float64' }], freshness: { maxAgeSeconds: 5 } }, /needs eventTime/],
  ])('rejects a contract that does not parse or is inconsistent (%#)', (input, message) => {
    const err = (() => {
      try {
        parseContract(input);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(message);
  });
});

describe('runPipeline', () => {
  it('without a contract, keeps every row with inferred types, in canonical batches', async () => {
    const r = await run('a,b\n1,x\n2,y\n3,\n4,z\n5,w\n');
    expect(r.report.status).toBe('succeeded');
    expect(r.table!.numRows).toBe(5);
    expect(r.table!.batches).toHaveLength(1);
    expect(r.columns).toEqual([
      { name: 'a', type: 'float64', nullCount: 0 },
      { name: 'b', type: 'utf8', nullCount: 1 },
    ]);
  });

  it('without a contract, fails on a value that does not fit the inferred type and names row and column', async () => {
    const r = await run('a,b\n1,x\n2,y\n3,z\n4,w\nlots,v\n');
    expect(r.report.status).toBe('failed');
    expect(r.table).toBeUndefined();
    expect(r.quarantine).toEqual([{ runId: 'run-1', rowNumber: 5, column: 'a', value: 'lots', check: 'type', severity: 'error', reason: '"lots" is not a number' }]);
    expect(formatReport(r.report)).toMatch(/type on "a": 1 of 5 rows \(20%\) not readable as float64; at most 0% allowed\. First: row 5, value "lots"/);
    expect(formatReport(r.report)).toContain('nothing was committed');
  });

  const contract = {
    columns: [
      { name: 'id', type: 'float64', notNull: true },
      { name: 'age', type: 'float64', range: { min: 0, max: 130, maxFraction: 0.25 } },
      { name: 'state', type: 'utf8', allowed: { values: ['CA', 'NY'], severity: 'warn' } },
      { name: 'email', type: 'utf8', pattern: { regex: '^[^@]+@[^@]+$', maxFraction: 0.5 } },
    ],
  };

  it('quarantines rows under threshold, keeps warn rows, and reports each check', async () => {
    const r = await run('id,age,state,email\n1,30,CA,a@x\n2,-4,NY,b@x\n3,40,TX,c@x\n4,50,NY,nope\n5,60,CA,e@x\n6,70,CA,f@x\n7,80,CA,g@x\n8,90,CA,h@x\n', contract);
    expect(r.report.status).toBe('succeeded');
    expect(rowsOf(r.table!, 'id')).toEqual([1, 3, 5, 6, 7, 8]);
    expect(r.report.rowsQuarantined).toBe(2);
    const byCheck = Object.fromEntries(r.report.checks.map((c) => [c.check, c]));
    expect(byCheck.range).toMatchObject({ violations: 1, fraction: 1 / 8, breached: false, severity: 'error' });
    expect(byCheck.allowed).toMatchObject({ violations: 1, severity: 'warn', breached: true });
    expect(r.report.warnings.join('\n')).toContain('allowed on "state"');
    expect(r.quarantine.map((q) => [q.rowNumber, q.column, q.check, q.severity])).toEqual([
      [2, 'age', 'range', 'error'],
      [3, 'state', 'allowed', 'warn'],
      [4, 'email', 'pattern', 'error'],
    ]);
  });

  it('fails the run when a check breaches its threshold, with a readable report', async () => {
    const r = await run('id,age,state,email\n1,-1,CA,a@x\n2,-4,NY,b@x\n,40,CA,c@x\n4,50,NY,d@x\n', contract);
    expect(r.report.status).toBe('failed');
    const text = formatReport(r.report);
    expect(text).toMatch(/range on "age": 2 of 4 rows \(50%\) not within \[0, 130\]; at most 25% allowed\. First: row 1, value "-1"/);
    expect(text).toMatch(/notNull on "id": 1 of 4 rows \(25%\)/);
    expect(text).toContain('GET /v1/datasets/runs/run-1/quarantine');
  });

  it('reports schema drift by name: missing required, new and retyped columns', async () => {
    const r = await run('id,age,state,extra\n1,30,CA,x\n', contract);
    expect(r.report.status).toBe('failed');
    expect(r.report.drift[0]).toEqual({ against: 'contract', added: ['extra'], missing: ['email'], retyped: [] });
    expect(r.report.errors.join()).toContain('column "email" is required by the contract but missing');
    const retyped = await run('id,age\n1,old\n', { columns: [{ name: 'id', type: 'utf8' }, { name: 'age', type: 'float64', typeCheck: { maxFraction: 1 } }] });
    expect(retyped.report.drift[0].retyped).toEqual([
      { column: 'id', expected: 'utf8', actual: 'float64' },
      { column: 'age', expected: 'float64', actual: 'utf8' },
    ]);
    // The one row is quarantined (its age is not a number); a version with no rows is refused.
    expect(retyped.report.errors.join()).toContain('no rows survived the checks');
    const prev = await run('a,b\n1,2\n', undefined, { previousColumns: [{ name: 'a', type: 'utf8', nullCount: 0 }, { name: 'c', type: 'utf8', nullCount: 0 }] });
    expect(prev.report.drift[0]).toEqual({ against: 'previous version', added: ['b'], missing: ['c'], retyped: [{ column: 'a', expected: 'utf8', actual: 'float64' }] });
    expect(prev.report.warnings.join()).toContain('Schema changed since the previous version');
  });

  it('profiles a version: nulls, min/max, mean/std, distinct, quantiles, histogram, top-k', async () => {
    const r = await run('x,c\n1,a\n2,a\n3,b\n,b\n4,a\n');
    const p = await profileTable(r.table!, r.columns);
    const [x, c] = p.columns;
    expect(x).toMatchObject({ name: 'x', nullCount: 1, distinctCount: 4, quantiles: { '0.5': 2.5 } });
    expect(x.stats).toMatchObject({ kind: 'numeric', min: 1, max: 4, mean: 2.5 });
    expect(x.stats.kind === 'numeric' && x.stats.binCounts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(c).toMatchObject({ distinctCount: 2, stats: { kind: 'categorical', categoryCounts: { a: 3, b: 2 } } });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});
