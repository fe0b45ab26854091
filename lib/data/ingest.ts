// The ingestion pipeline over an opened source: cast to canonical types, check the contract,
// quarantine bad rows, dedup, and stream the version's canonical Arrow IPC file into the artifact
// store, batch by batch, committing it only when the run passes.
import { open } from 'node:fs/promises';
import { Bool, Field, Float64, Schema, TimestampMillisecond, Utf8, type DataType, type RecordBatch } from 'apache-arrow';
import type { ArtifactStore, ArtifactWriter, StoredArtifact } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { BatchBuilder } from './batch-builder.js';
import { columnReader } from './column-reader.js';
import { cast, CastFailure, displayValue } from './cast.js';
import { resolvePolicy, type DataContract } from './contract.js';
import { IpcFileSink, readIpcFile } from './ipc-file-sink.js';
import { fingerprint, KeyIndex, keyText } from './key-index.js';
import type { OpenedSource } from './sources.js';
import type { CheckOutcome, ColumnSchema, ColumnType, IngestionReport, QuarantinedRow, SchemaDrift, Severity } from './types.js';

/** Rows per record batch in a stored version: fixed, so the same rows always give the same bytes. */
export const CANONICAL_BATCH_ROWS = 65_536;

/** Quarantine rows kept per run (all are counted; only these many are stored). */
export const QUARANTINE_LIMIT = 10_000;

export function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'float64':
      return new Float64();
    case 'utf8':
      return new Utf8();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond();
  }
}

export function canonicalSchema(columns: Array<{ name: string; type: ColumnType }>): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true)));
}

export interface PipelineInput {
  runId: string;
  datasetName: string;
  sourceUri: string;
  source: OpenedSource;
  contract?: DataContract;
  contractVersion?: number | null;
  /** Append mode: the parent version's batches, whose rows come first and are not re-checked. */
  parent?: AsyncIterable<RecordBatch>;
  /** The previous version's columns, for drift reporting when no contract is declared. */
  previousColumns?: ColumnSchema[];
  /** Wall-clock now in ms, for freshness. */
  now: number;
  onProgress?: (rowsRead: number, rowsQuarantined: number) => void;
  quarantineLimit?: number;
  /** Where the version's file goes; scratch files are tagged with the run id. */
  artifacts: ArtifactStore;
  /** For dedup and unique keys (a temporary table per run); only needed when the contract declares them. */
  db?: Db;
}

export interface PipelineResult {
  report: IngestionReport;
  /** The stored Arrow IPC file of the version; absent when the run failed (nothing was stored). */
  artifact?: StoredArtifact;
  columns: ColumnSchema[];
  quarantine: QuarantinedRow[];
  rowsFromParent: number;
}

interface RowCheck {
  check: string;
  column: string;
  severity: Severity;
  maxFraction: number;
  describe: string;
  violations: number;
  first?: { row: number; value: string | null; reason: string };
}

interface OutputColumn {
  name: string;
  type: ColumnType;
  /** Index in the source's columns, or -1 when the source lacks it (filled with nulls). */
  sourceIndex: number;
  valueType: ColumnType;
  typeCheck: RowCheck;
  /** Returns a reason when the (cast, non-null or null) value breaks a check. */
  checks: Array<{ check: RowCheck; test: (v: unknown) => string | undefined }>;
}

function newCheck(check: string, column: string, policy: { severity: Severity; maxFraction: number }, describe: string): RowCheck {
  return { check, column, severity: policy.severity, maxFraction: policy.maxFraction, describe, violations: 0 };
}

function pct(f: number): string {
  return `${(f * 100).toFixed(f < 0.001 && f > 0 ? 3 : 2).replace(/\.?0+$/, '')}%`;
}

/** Runs the pipeline; never throws for bad rows (they are in the report), only for unreadable sources. */
export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  const { source, contract } = input;
  const limit = input.quarantineLimit ?? QUARANTINE_LIMIT;
  const quarantine: QuarantinedRow[] = [];
  const checks: RowCheck[] = [];
  const datasetChecks: CheckOutcome[] = [];
  const drift: SchemaDrift[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const sourceIndex = new Map(source.columns.map((c, i) => [c.name, i]));

  // 1. The output schema and its checks.
  const outputs: OutputColumn[] = [];
  const schemaProblem = (message: string, severity: Severity) => {
    datasetChecks.push({ check: 'schema', severity, violations: 1, fraction: 1, maxFraction: 0, breached: true, message });
  };
  const makeOutput = (name: string, type: ColumnType, typeCheck: RowCheck): OutputColumn => {
    const idx = sourceIndex.get(name) ?? -1;
    return { name, type, sourceIndex: idx, valueType: idx >= 0 ? source.columns[idx].valueType : type, typeCheck, checks: [] };
  };
  if (contract) {
    const d: SchemaDrift = { against: 'contract', added: [], missing: [], retyped: [] };
    for (const c of contract.columns) {
      const src = source.columns[sourceIndex.get(c.name) ?? -1];
      if (!src) {
        d.missing.push(c.name);
        if (c.required !== false) schemaProblem(`column ${JSON.stringify(c.name)} is required by the contract but missing from the source`, 'error');
      } else if (src.type !== c.type) {
        d.retyped.push({ column: c.name, expected: c.type, actual: src.type });
      }
      const typeCheck = newCheck('type', c.name, resolvePolicy(c.typeCheck), `readable as ${c.type}`);
      const out = makeOutput(c.name, c.type, typeCheck);
      if (c.notNull) {
        const check = newCheck('notNull', c.name, resolvePolicy(c.notNull), 'not null');
        out.checks.push({ check, test: (v) => (v === null ? 'is null' : undefined) });
      }
      if (c.range) {
        const { min, max } = c.range;
        const shown = (x: number | undefined) => (x === undefined ? '' : c.type === 'timestamp' ? new Date(x).toISOString() : String(x));
        const check = newCheck('range', c.name, resolvePolicy(c.range), `within [${shown(min) || '-inf'}, ${shown(max) || 'inf'}]`);
        out.checks.push({
          check,
          test: (v) => (v !== null && ((min !== undefined && (v as number) < min) || (max !== undefined && (v as number) > max)) ? `outside [${shown(min) || '-inf'}, ${shown(max) || 'inf'}]` : undefined),
        });
      }
      if (c.allowed) {
        const allowed = new Set(c.allowed.values);
        const shown = c.allowed.values.length <= 8 ? c.allowed.values.map((x) => JSON.stringify(x)).join(', ') : `${c.allowed.values.length} allowed values`;
        const check = newCheck('allowed', c.name, resolvePolicy(c.allowed), `one of ${shown}`);
        out.checks.push({ check, test: (v) => (v !== null && !allowed.has(displayValue(v, c.type)!) ? `not one of ${shown}` : undefined) });
      }
      if (c.pattern) {
        const re = new RegExp(c.pattern.regex, 'u');
        const check = newCheck('pattern', c.name, resolvePolicy(c.pattern), `matching /${c.pattern.regex}/`);
        out.checks.push({ check, test: (v) => (v !== null && !re.test(displayValue(v, c.type)!) ? `does not match /${c.pattern!.regex}/` : undefined) });
      }
      checks.push(typeCheck, ...out.checks.map((x) => x.check));
      outputs.push(out);
    }
    const declared = new Set(contract.columns.map((c) => c.name));
    const extraPolicy = contract.extraColumns ?? 'warn';
    for (const src of source.columns) {
      if (declared.has(src.name)) continue;
      d.added.push(src.name);
      if (extraPolicy === 'error') schemaProblem(`column ${JSON.stringify(src.name)} is not in the contract (extraColumns: error)`, 'error');
      const typeCheck = newCheck('type', src.name, { severity: 'error', maxFraction: 0 }, `readable as ${src.type}`);
      checks.push(typeCheck);
      outputs.push(makeOutput(src.name, src.type, typeCheck));
    }
    drift.push(d);
    if (extraPolicy === 'warn' && d.added.length > 0) warnings.push(`Columns not in the contract (kept): ${d.added.join(', ')}.`);
    if (d.retyped.length > 0) {
      warnings.push(`Columns whose source type differs from the contract (cast): ${d.retyped.map((r) => `${r.column} ${r.actual} -> ${r.expected}`).join(', ')}.`);
    }
  } else {
    for (const src of source.columns) {
      // Without a contract, values that do not fit the column's inferred type fail the run.
      const typeCheck = newCheck('type', src.name, { severity: 'error', maxFraction: 0 }, `readable as ${src.type}`);
      checks.push(typeCheck);
      outputs.push(makeOutput(src.name, src.type, typeCheck));
    }
  }
  if (input.previousColumns) {
    const prev = new Map(input.previousColumns.map((c) => [c.name, c.type]));
    const now = new Map(outputs.map((o) => [o.name, o.type]));
    const d: SchemaDrift = {
      against: 'previous version',
      added: [...now.keys()].filter((n) => !prev.has(n)),
      missing: [...prev.keys()].filter((n) => !now.has(n)),
      retyped: [...now].filter(([n, t]) => prev.has(n) && prev.get(n) !== t).map(([column, actual]) => ({ column, expected: prev.get(column)!, actual })),
    };
    if (d.added.length + d.missing.length + d.retyped.length > 0) {
      drift.push(d);
      const parts = [
        d.added.length ? `new ${d.added.join(', ')}` : '',
        d.missing.length ? `missing ${d.missing.join(', ')}` : '',
        d.retyped.length ? `retyped ${d.retyped.map((r) => `${r.column} ${r.expected} -> ${r.actual}`).join(', ')}` : '',
      ].filter(Boolean);
      if (input.parent) schemaProblem(`append needs the parent's columns and types; the source has ${parts.join('; ')}`, 'error');
      else warnings.push(`Schema changed since the previous version: ${parts.join('; ')}.`);
    }
  }
  if (input.parent) {
    // Parent rows keep the parent's column order.
    const order = new Map(input.previousColumns?.map((c, i) => [c.name, i]) ?? []);
    outputs.sort((a, b) => (order.get(a.name) ?? 1e9) - (order.get(b.name) ?? 1e9));
  }

  const report: IngestionReport = {
    runId: input.runId,
    datasetName: input.datasetName,
    sourceUri: input.sourceUri,
    contractVersion: input.contractVersion ?? null,
    status: 'succeeded',
    rowsRead: 0,
    rowsQuarantined: 0,
    rowsWritten: 0,
    duplicates: { exact: 0, byKey: 0 },
    checks: [],
    drift,
    errors,
    warnings,
  };
  const schema = canonicalSchema(outputs);
  const columnSchemas: ColumnSchema[] = outputs.map((o) => ({ name: o.name, type: o.type, nullCount: 0 }));
  if (datasetChecks.some((c) => c.breached && c.severity === 'error')) {
    await source.close();
    return finish(report, checks, datasetChecks, quarantine, columnSchemas, 0);
  }

  // 2. Read, cast and check every row. Rows kept go straight into canonical batches of the version's
  // Arrow IPC file, streamed into the artifact store; with dedup or unique keys they go to a scratch
  // Arrow file first, their fingerprints to a KeyIndex, and a second pass writes the survivors.
  const exactDedup = contract?.dedup?.exact === true;
  const keyCols = contract?.dedup?.key?.map((k) => outputs.findIndex((o) => o.name === k));
  const eventIdx = contract?.eventTime !== undefined ? outputs.findIndex((o) => o.name === contract.eventTime) : -1;
  const uniques = (contract?.unique ?? []).map((u) => ({
    cols: u.columns.map((n) => outputs.findIndex((o) => o.name === n)),
    check: newCheck('unique', u.columns.join(','), resolvePolicy(u), `unique (${u.columns.join(', ')})`),
  }));
  checks.push(...uniques.map((u) => u.check));
  const indexed = exactDedup || keyCols !== undefined || uniques.length > 0;
  if (indexed && !input.db) throw new Error('runPipeline: dedup and unique keys need the database (input.db)');

  const row: unknown[] = new Array(outputs.length);
  const record = (q: Omit<QuarantinedRow, 'runId'>) => {
    if (quarantine.length < limit) quarantine.push({ runId: input.runId, ...q });
  };
  const out = await input.artifacts.createWriter(input.runId);
  const canonical = new BatchBuilder(schema);
  const ipc = new IpcFileSink((chunk) => out.write(chunk));
  let written = 0;
  let newestEvent = -Infinity;
  // Batches are cut at exactly CANONICAL_BATCH_ROWS (as rows arrive), so the same rows always give the same bytes.
  const ready: RecordBatch[] = [];
  const emit = async () => {
    while (ready.length > 0) await ipc.write(ready.shift()!);
  };
  const keepFinal = () => {
    for (let c = 0; c < outputs.length; c++) if (row[c] === null) columnSchemas[c].nullCount++;
    if (eventIdx >= 0 && typeof row[eventIdx] === 'number') newestEvent = Math.max(newestEvent, row[eventIdx] as number);
    canonical.append(row);
    written++;
    if (canonical.length === CANONICAL_BATCH_ROWS) ready.push(canonical.flush());
  };

  let staging: { writer: ArtifactWriter; ipc: IpcFileSink; rows: BatchBuilder; index: KeyIndex } | undefined;
  let kept = 0;
  const keepRow = (rowNumber: number) => {
    if (!staging) return keepFinal();
    const time = eventIdx >= 0 && typeof row[eventIdx] === 'number' ? (row[eventIdx] as number) : -Infinity;
    staging.index.add(
      kept++,
      rowNumber,
      exactDedup ? fingerprint(keyText(row)) : null,
      keyCols ? fingerprint(keyText(keyCols.map((i) => row[i]))) : null,
      time,
      uniques.map((u) => fingerprint(keyText(u.cols.map((c) => row[c])))),
    );
    staging.rows.append(row);
  };
  // Called after every batch read: moves buffered rows on and reports progress.
  const afterBatch = async () => {
    if (staging) {
      if (staging.rows.length > 0) await staging.ipc.write(staging.rows.flush());
      await staging.index.flushIfFull();
    } else {
      await emit();
    }
    input.onProgress?.(report.rowsRead, report.rowsQuarantined);
  };

  let rowsFromParent = 0;
  let committed: StoredArtifact | undefined;
  try {
    if (indexed) {
      const writer = await input.artifacts.createWriter(input.runId);
      staging = { writer, ipc: new IpcFileSink((chunk) => writer.write(chunk)), rows: new BatchBuilder(schema), index: undefined as unknown as KeyIndex };
      staging.index = await KeyIndex.open(input.db!, { exact: exactDedup, key: keyCols !== undefined, uniques: uniques.length });
    }
    if (input.parent) {
      for await (const batch of input.parent) {
        const parentCols = outputs.map((o) => columnReader(batch.getChild(o.name)));
        for (let i = 0; i < batch.numRows; i++) {
          for (let c = 0; c < outputs.length; c++) row[c] = parentCols[c](i) ?? null;
          keepRow(0);
        }
        rowsFromParent += batch.numRows;
        await afterBatch();
      }
    }

    for await (const batch of source.batches) {
      for (let r = 0; r < batch.numRows; r++) {
        const rowNumber = ++report.rowsRead;
        let rejected = false;
        for (let c = 0; c < outputs.length; c++) {
          const o = outputs[c];
          const raw = o.sourceIndex >= 0 ? batch.columns[o.sourceIndex].get(r) : null;
          let value = cast(raw, o.valueType, o.type);
          if (value instanceof CastFailure) {
            const shown = displayValue(raw, o.valueType);
            if (++o.typeCheck.violations === 1) o.typeCheck.first = { row: rowNumber, value: shown, reason: value.reason };
            record({ rowNumber, column: o.name, value: shown, check: 'type', severity: o.typeCheck.severity, reason: value.reason });
            if (o.typeCheck.severity === 'error') rejected = true;
            value = null;
          }
          row[c] = value;
          for (const { check, test } of o.checks) {
            const reason = test(value);
            if (reason === undefined) continue;
            const shown = displayValue(value, o.type);
            if (++check.violations === 1) check.first = { row: rowNumber, value: shown, reason };
            record({ rowNumber, column: o.name, value: shown, check: check.check, severity: check.severity, reason });
            if (check.severity === 'error') rejected = true;
          }
        }
        if (rejected) report.rowsQuarantined++;
        else keepRow(rowNumber);
      }
      await afterBatch();
    }
    await source.close();

    // 3. With an index: drop duplicates, flag repeated unique keys, and write the survivors in order.
    if (staging) {
      await staging.ipc.close();
      report.duplicates = await staging.index.resolve();
      const flags = staging.index.flagged();
      let flag = await flags.next();
      let pos = 0;
      for await (const batch of readIpcFile(await open(staging.writer.tempPath, 'r'))) {
        const cols = outputs.map((_, c) => columnReader(batch.getChildAt(c)));
        for (let i = 0; i < batch.numRows; i++, pos++) {
          const f = !flag.done && flag.value.pos === pos ? flag.value : undefined;
          if (f) flag = await flags.next();
          if (f?.dropped) continue;
          for (let c = 0; c < outputs.length; c++) row[c] = cols[c](i);
          let rejected = false;
          f?.repeats.forEach((repeats, k) => {
            if (!repeats) return;
            const u = uniques[k];
            const key = JSON.stringify(u.cols.map((c) => row[c]));
            if (++u.check.violations === 1) u.check.first = { row: f.rowNumber, value: key, reason: 'repeats an earlier key' };
            record({ rowNumber: f.rowNumber, column: u.check.column, value: key, check: 'unique', severity: u.check.severity, reason: `repeats an earlier (${u.check.column}) key` });
            if (u.check.severity === 'error') rejected = true;
          });
          if (rejected) report.rowsQuarantined++;
          else keepFinal();
        }
        await emit();
        input.onProgress?.(report.rowsRead, report.rowsQuarantined);
      }
    }
    report.rowsWritten = written;

    // 4. Dataset-level checks.
    if (contract?.freshness) {
      const maxAge = contract.freshness.maxAgeSeconds;
      const age = Number.isFinite(newestEvent) ? (input.now - newestEvent) / 1000 : Infinity;
      const breached = age > maxAge;
      datasetChecks.push({
        check: 'freshness',
        column: contract.eventTime,
        severity: contract.freshness.severity ?? 'error',
        violations: breached ? 1 : 0,
        fraction: breached ? 1 : 0,
        maxFraction: 0,
        breached,
        message: Number.isFinite(newestEvent)
          ? `newest ${contract.eventTime} is ${new Date(newestEvent).toISOString()}, ${Math.round(age)} s old; at most ${maxAge} s allowed`
          : `no row has an event time in ${contract.eventTime}; at most ${maxAge} s of age allowed`,
      });
    }
    if (contract?.rowCount) {
      const { min, max } = contract.rowCount;
      const breached = (min !== undefined && written < min) || (max !== undefined && written > max);
      datasetChecks.push({
        check: 'rowCount',
        severity: contract.rowCount.severity ?? 'error',
        violations: breached ? 1 : 0,
        fraction: breached ? 1 : 0,
        maxFraction: 0,
        breached,
        message: `${written} rows written; expected ${min ?? 0} to ${max ?? 'any number of'} rows`,
      });
    }
    if (written === 0 && !contract?.rowCount) {
      datasetChecks.push({ check: 'rowCount', severity: 'error', violations: 1, fraction: 1, maxFraction: 0, breached: true, message: 'no rows survived the checks; a version needs at least one row' });
    }
    const result = finish(report, checks, datasetChecks, quarantine, columnSchemas, rowsFromParent);
    // 5. Only a run that passed puts its file into the store.
    if (result.report.status === 'succeeded') {
      await emit();
      if (canonical.length > 0 || written === 0) await ipc.write(canonical.flush());
      await ipc.close();
      committed = await out.commit();
      result.artifact = committed;
    }
    return result;
  } finally {
    await source.close();
    if (!committed) await out.abort();
    await staging?.writer.abort();
    await staging?.index?.close();
  }
}

function finish(
  report: IngestionReport,
  rowChecks: RowCheck[],
  datasetChecks: CheckOutcome[],
  quarantine: QuarantinedRow[],
  columns: ColumnSchema[],
  rowsFromParent: number,
): PipelineResult {
  const base = Math.max(report.rowsRead, 1);
  for (const c of rowChecks) {
    const fraction = c.violations / base;
    const breached = fraction > c.maxFraction;
    if (c.violations === 0) continue;
    const first = c.first ? ` First: row ${c.first.row}, value ${c.first.value === null ? 'null' : JSON.stringify(c.first.value)} (${c.first.reason}).` : '';
    const message = `${c.check} on ${JSON.stringify(c.column)}: ${c.violations} of ${report.rowsRead} rows (${pct(fraction)}) not ${c.describe}; at most ${pct(c.maxFraction)} allowed.${first}`;
    report.checks.push({ check: c.check, column: c.column, severity: c.severity, violations: c.violations, fraction, maxFraction: c.maxFraction, breached, message });
  }
  for (const c of datasetChecks) {
    report.checks.push(c);
  }
  for (const c of report.checks) {
    if (!c.breached && c.check !== 'type' && c.violations > 0 && c.severity === 'warn') report.warnings.push(c.message);
    if (!c.breached) continue;
    const line = c.check === 'schema' || c.check === 'freshness' || c.check === 'rowCount' ? `${c.check}: ${c.message}` : c.message;
    if (c.severity === 'error') report.errors.push(line);
    else report.warnings.push(line);
  }
  report.status = report.errors.length > 0 ? 'failed' : 'succeeded';
  return { report, columns, quarantine, rowsFromParent };
}

/** The report as text a person can act on: what broke, how often, the first example, where the rows are. */
export function formatReport(report: IngestionReport): string {
  const lines: string[] = [];
  const contract = report.contractVersion === null ? 'without a contract' : `against contract v${report.contractVersion}`;
  lines.push(
    report.status === 'failed'
      ? `Ingestion of ${JSON.stringify(report.datasetName)} from ${report.sourceUri} failed ${contract}: ${report.errors.length} check(s) breached; nothing was committed.`
      : `Ingestion of ${JSON.stringify(report.datasetName)} from ${report.sourceUri} passed ${contract}.`,
  );
  for (const e of report.errors) lines.push(`- ${e}`);
  for (const w of report.warnings) lines.push(`- warning: ${w}`);
  for (const d of report.drift) {
    if (d.added.length + d.missing.length + d.retyped.length === 0) continue;
    lines.push(
      `- schema drift against the ${d.against}: added [${d.added.join(', ')}], missing [${d.missing.join(', ')}], retyped [${d.retyped.map((r) => `${r.column}: ${r.expected} -> ${r.actual}`).join(', ')}]`,
    );
  }
  lines.push(
    `Rows read ${report.rowsRead}, quarantined ${report.rowsQuarantined}, duplicates dropped ${report.duplicates.exact} exact + ${report.duplicates.byKey} by key, written ${report.status === 'failed' ? 0 : report.rowsWritten}.`,
  );
  if (report.rowsQuarantined > 0 || report.checks.some((c) => c.violations > 0)) {
    lines.push(`Quarantined rows: GET /v1/datasets/runs/${report.runId}/quarantine`);
  }
  return lines.join('\n');
}
