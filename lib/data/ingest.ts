// The ingestion pipeline over an opened source: cast to canonical types, check the contract,
// quarantine bad rows, dedup, and build the canonical Arrow table of the version plus its report.
import { createHash } from 'node:crypto';
import {
  Bool,
  Field,
  Float64,
  makeBuilder,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  makeData,
  makeVector,
  type Builder,
  type Data,
  type DataType,
} from 'apache-arrow';
import { castValue, displayValue } from './cast.js';
import { resolvePolicy, type DataContract } from './contract.js';
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
  /** Append mode: the parent version's rows, which come first and are not re-checked. */
  parent?: Table;
  /** The previous version's columns, for drift reporting when no contract is declared. */
  previousColumns?: ColumnSchema[];
  /** Wall-clock now in ms, for freshness. */
  now: number;
  onProgress?: (rowsRead: number, rowsQuarantined: number) => void;
  quarantineLimit?: number;
}

export interface PipelineResult {
  report: IngestionReport;
  /** Absent when the run failed. */
  table?: Table;
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
    return finish(report, checks, datasetChecks, quarantine, columnSchemas, undefined, 0);
  }

  // 2. Read, cast, check; keep rows in per-column builders (one Data chunk per source batch).
  const builders: Array<Builder> = outputs.map((o) => makeBuilder({ type: arrowType(o.type), nullValues: [null, undefined] }));
  const chunks: Data[][] = outputs.map(() => []);
  let kept = 0;
  let rowNumbers = new Float64Array(1024);
  const dropped = new Set<number>();
  const exact = contract?.dedup?.exact ? new Set<string>() : undefined;
  const keyCols = contract?.dedup?.key?.map((k) => outputs.findIndex((o) => o.name === k));
  const eventIdx = contract?.eventTime !== undefined ? outputs.findIndex((o) => o.name === contract.eventTime) : -1;
  const latestByKey = keyCols ? new Map<string, { at: number; time: number }>() : undefined;
  const row: unknown[] = new Array(outputs.length);

  const record = (q: Omit<QuarantinedRow, 'runId'>) => {
    if (quarantine.length < limit) quarantine.push({ runId: input.runId, ...q });
  };
  const keepRow = (rowNumber: number) => {
    // Dedup happens as rows are kept: exact duplicates never enter; a key repeat replaces the older row.
    if (exact) {
      const h = createHash('sha1').update(JSON.stringify(row)).digest('base64');
      if (exact.has(h)) {
        report.duplicates.exact++;
        return;
      }
      exact.add(h);
    }
    if (latestByKey && keyCols) {
      const key = JSON.stringify(keyCols.map((i) => row[i]));
      const time = eventIdx >= 0 && typeof row[eventIdx] === 'number' ? (row[eventIdx] as number) : -Infinity;
      const prev = latestByKey.get(key);
      if (prev) {
        report.duplicates.byKey++;
        if (time < prev.time) return;
        dropped.add(prev.at);
      }
      latestByKey.set(key, { at: kept, time });
    }
    for (let c = 0; c < outputs.length; c++) builders[c].append(row[c]);
    if (kept === rowNumbers.length) {
      const bigger = new Float64Array(rowNumbers.length * 2);
      bigger.set(rowNumbers);
      rowNumbers = bigger;
    }
    rowNumbers[kept++] = rowNumber;
  };
  const flush = () => builders.forEach((b, c) => chunks[c].push(b.flush()));

  let rowsFromParent = 0;
  if (input.parent) {
    const parentCols = outputs.map((o) => input.parent!.getChild(o.name));
    for (let i = 0; i < input.parent.numRows; i++) {
      for (let c = 0; c < outputs.length; c++) row[c] = parentCols[c]?.get(i) ?? null;
      keepRow(0);
    }
    rowsFromParent = input.parent.numRows;
    flush();
  }

  try {
    for await (const batch of source.batches) {
      for (let r = 0; r < batch.numRows; r++) {
        const rowNumber = ++report.rowsRead;
        let rejected = false;
        for (let c = 0; c < outputs.length; c++) {
          const o = outputs[c];
          const raw = o.sourceIndex >= 0 ? batch.columns[o.sourceIndex].get(r) : null;
          const cast = castValue(raw, o.valueType, o.type);
          if (!cast.ok) {
            const value = displayValue(raw, o.valueType);
            if (++o.typeCheck.violations === 1) o.typeCheck.first = { row: rowNumber, value, reason: cast.reason };
            record({ rowNumber, column: o.name, value, check: 'type', severity: o.typeCheck.severity, reason: cast.reason });
            if (o.typeCheck.severity === 'error') rejected = true;
          }
          row[c] = cast.value;
          for (const { check, test } of o.checks) {
            const reason = test(cast.value);
            if (reason === undefined) continue;
            const value = displayValue(cast.value, o.type);
            if (++check.violations === 1) check.first = { row: rowNumber, value, reason };
            record({ rowNumber, column: o.name, value, check: check.check, severity: check.severity, reason });
            if (check.severity === 'error') rejected = true;
          }
        }
        if (rejected) report.rowsQuarantined++;
        else keepRow(rowNumber);
      }
      flush();
      input.onProgress?.(report.rowsRead, report.rowsQuarantined);
    }
  } finally {
    await source.close();
  }

  // 3. Re-chunk the kept rows into canonical batches, skipping rows dedup replaced, checking unique keys.
  const uniques = (contract?.unique ?? []).map((u) => ({
    cols: u.columns.map((n) => outputs.findIndex((o) => o.name === n)),
    seen: new Set<string>(),
    check: newCheck('unique', u.columns.join(','), resolvePolicy(u), `unique (${u.columns.join(', ')})`),
  }));
  checks.push(...uniques.map((u) => u.check));
  const finals = outputs.map((o) => makeBuilder({ type: arrowType(o.type), nullValues: [null, undefined] }));
  const batches: RecordBatch[] = [];
  let inBatch = 0;
  let written = 0;
  let newestEvent = -Infinity;
  const cut = () => {
    const children = finals.map((b) => b.flush());
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: inBatch, nullCount: 0, children })));
    inBatch = 0;
  };
  let at = 0;
  for (let k = 0; k < (chunks[0]?.length ?? 0); k++) {
    const vectors = chunks.map((cs) => makeVector(cs[k]));
    const len = vectors[0]?.length ?? 0;
    for (let i = 0; i < len; i++, at++) {
      if (dropped.has(at)) continue;
      for (let c = 0; c < outputs.length; c++) row[c] = vectors[c].get(i);
      let rejected = false;
      for (const u of uniques) {
        const key = JSON.stringify(u.cols.map((c) => row[c]));
        if (!u.seen.has(key)) {
          u.seen.add(key);
          continue;
        }
        const rowNumber = rowNumbers[at];
        if (++u.check.violations === 1) u.check.first = { row: rowNumber, value: key, reason: 'repeats an earlier key' };
        record({ rowNumber, column: u.check.column, value: key, check: 'unique', severity: u.check.severity, reason: `repeats an earlier (${u.check.column}) key` });
        if (u.check.severity === 'error') rejected = true;
      }
      if (rejected) {
        report.rowsQuarantined++;
        continue;
      }
      for (let c = 0; c < outputs.length; c++) {
        finals[c].append(row[c]);
        if (row[c] === null) columnSchemas[c].nullCount++;
      }
      if (eventIdx >= 0 && typeof row[eventIdx] === 'number') newestEvent = Math.max(newestEvent, row[eventIdx] as number);
      written++;
      if (++inBatch === CANONICAL_BATCH_ROWS) cut();
    }
  }
  if (inBatch > 0 || batches.length === 0) cut();
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
  const table = new Table(schema, batches);
  return finish(report, checks, datasetChecks, quarantine, columnSchemas, table, rowsFromParent);
}

function finish(
  report: IngestionReport,
  rowChecks: RowCheck[],
  datasetChecks: CheckOutcome[],
  quarantine: QuarantinedRow[],
  columns: ColumnSchema[],
  table: Table | undefined,
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
  return { report, table: report.status === 'succeeded' ? table : undefined, columns, quarantine, rowsFromParent };
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
