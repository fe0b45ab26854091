// Experiment tracking in Postgres: experiments, runs (training runs and search trials), curves; list and compare.
import { NotFoundError } from '../errors.js';
import { higherIsBetter, isMetricName } from '../evaluation/index.js';
import { withTransaction, type Db } from '../storage/db.js';

export type RunKind = 'training' | 'trial';

export interface RunRecord {
  id: string;
  experiment: string;
  kind: RunKind;
  parentRunId?: string | null;
  modelName: string;
  learner: string;
  status: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  tags?: Record<string, string>;
  artifacts?: Record<string, string>;
  lineage?: Record<string, unknown>;
}

export interface StoredRun extends Required<Omit<RunRecord, 'parentRunId'>> {
  parentRunId: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** Per-iteration values by metric key, as [step, value] pairs. */
export type Curves = Record<string, Array<[number, number]>>;

interface RunRow {
  id: string;
  experiment: string;
  kind: RunKind;
  parent_run_id: string | null;
  model_name: string;
  learner: string;
  status: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  artifacts: Record<string, string>;
  lineage: Record<string, unknown>;
  started_at: Date;
  finished_at: Date | null;
}

function fromRow(r: RunRow): StoredRun {
  return {
    id: r.id,
    experiment: r.experiment,
    kind: r.kind,
    parentRunId: r.parent_run_id,
    modelName: r.model_name,
    learner: r.learner,
    status: r.status,
    params: r.params,
    metrics: r.metrics,
    tags: r.tags,
    artifacts: r.artifacts,
    lineage: r.lineage,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
  };
}

/**
 * Records a run and replaces its curves. Idempotent per run id: a retried activity overwrites its own
 * row with the same values, and the curves are rewritten in the same transaction.
 */
export async function recordRun(db: Db, run: RunRecord, curves: Curves = {}): Promise<void> {
  await withTransaction(db, async (client) => {
    await client.query('insert into experiments (name) values ($1) on conflict do nothing', [run.experiment]);
    await client.query(
      `insert into experiment_runs (id, experiment, kind, parent_run_id, model_name, learner, status, params, metrics, tags, artifacts, lineage, finished_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, case when $7 in ('running') then null else now() end)
       on conflict (id) do update set status = excluded.status, params = excluded.params, metrics = excluded.metrics, tags = excluded.tags,
         artifacts = excluded.artifacts, lineage = excluded.lineage, finished_at = excluded.finished_at`,
      [
        run.id,
        run.experiment,
        run.kind,
        run.parentRunId ?? null,
        run.modelName,
        run.learner,
        run.status,
        JSON.stringify(run.params),
        JSON.stringify(run.metrics),
        JSON.stringify(run.tags ?? {}),
        JSON.stringify(run.artifacts ?? {}),
        JSON.stringify(run.lineage ?? {}),
      ],
    );
    await client.query('delete from run_metric_steps where run_id = $1', [run.id]);
    for (const [key, points] of Object.entries(curves)) {
      const finite = points.filter(([, v]) => Number.isFinite(v));
      if (finite.length === 0) continue;
      await client.query(
        `insert into run_metric_steps (run_id, key, step, value) select $1, $2, s, v from unnest($3::int[], $4::float8[]) as t(s, v)`,
        [run.id, key, finite.map(([s]) => s), finite.map(([, v]) => v)],
      );
    }
  });
}

export async function listExperiments(db: Db): Promise<Array<{ name: string; runs: number; lastRunAt: string | null }>> {
  const { rows } = await db.query<{ name: string; runs: string; last: Date | null }>(
    `select e.name, count(r.id) as runs, max(r.started_at) as last
     from experiments e left join experiment_runs r on r.experiment = e.name group by e.name order by e.name`,
  );
  return rows.map((r) => ({ name: r.name, runs: Number(r.runs), lastRunAt: r.last?.toISOString() ?? null }));
}

export async function listRuns(db: Db, experiment: string, opts: { kind?: RunKind; parentRunId?: string } = {}): Promise<StoredRun[]> {
  const exists = await db.query('select 1 from experiments where name = $1', [experiment]);
  if (!exists.rowCount) throw new NotFoundError(`Experiment ${experiment} does not exist.`);
  const { rows } = await db.query<RunRow>(
    `select * from experiment_runs where experiment = $1 and ($2::text is null or kind = $2) and ($3::text is null or parent_run_id = $3)
     order by started_at, id`,
    [experiment, opts.kind ?? null, opts.parentRunId ?? null],
  );
  return rows.map(fromRow);
}

export async function getRun(db: Db, id: string): Promise<StoredRun & { curves: Curves }> {
  const { rows } = await db.query<RunRow>('select * from experiment_runs where id = $1', [id]);
  if (!rows[0]) throw new NotFoundError(`Run ${id} does not exist.`);
  const steps = await db.query<{ key: string; step: number; value: number }>('select key, step, value from run_metric_steps where run_id = $1 order by key, step', [id]);
  const curves: Curves = {};
  for (const s of steps.rows) (curves[s.key] ??= []).push([s.step, s.value]);
  return { ...fromRow(rows[0]), curves };
}

export interface Comparison {
  runs: Array<Pick<StoredRun, 'id' | 'kind' | 'status' | 'learner' | 'params' | 'metrics' | 'startedAt'>>;
  /** Parameters whose values differ between the compared runs. */
  differingParams: string[];
  /** Every metric any run has. */
  metrics: string[];
  /** Per metric, the id of the best run (lower is better for losses and errors). */
  best: Record<string, string>;
}

/** For metrics lib/evaluation does not know (e.g. custom logged ones): names that read as losses or errors. */
const LOWER_IS_BETTER = /loss|brier|rmse|mae|mape|error/;

/** Side-by-side comparison of some (default: all) runs of an experiment. */
export async function compareRuns(db: Db, experiment: string, runIds?: string[]): Promise<Comparison> {
  let runs = await listRuns(db, experiment);
  if (runIds && runIds.length > 0) {
    const missing = runIds.filter((id) => !runs.some((r) => r.id === id));
    if (missing.length > 0) throw new NotFoundError(`Experiment ${experiment} has no run ${missing.join(', ')}.`);
    runs = runs.filter((r) => runIds.includes(r.id));
  }
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const differingParams = paramKeys.filter((k) => new Set(runs.map((r) => JSON.stringify(r.params[k] ?? null))).size > 1);
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const best: Record<string, string> = {};
  for (const m of metrics) {
    if (/rows$|iterations|converged/.test(m)) continue; // counts, not scores
    const lower = isMetricName(m) ? !higherIsBetter(m) : LOWER_IS_BETTER.test(m);
    let bestRun: StoredRun | undefined;
    for (const r of runs) {
      const v = r.metrics[m];
      if (typeof v !== 'number') continue;
      if (!bestRun || (lower ? v < bestRun.metrics[m] : v > bestRun.metrics[m])) bestRun = r;
    }
    if (bestRun) best[m] = bestRun.id;
  }
  return {
    runs: runs.map((r) => ({ id: r.id, kind: r.kind, status: r.status, learner: r.learner, params: r.params, metrics: r.metrics, startedAt: r.startedAt })),
    differingParams,
    metrics,
    best,
  };
}
