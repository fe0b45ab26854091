// A bounded traffic simulator for the monitoring demo: scores credit applications on a model over HTTP
// (loopback by default), shifts the input distribution partway, and sends the true labels as feedback later.
//   npx tsx cli/simulate.ts --model credit-default --requests 40 --rows 25 --shift-after 20 --feedback-delay-ms 2000
// To carry a retrained version through its canary, keep traffic (and labels) flowing until it is in production:
//   npx tsx cli/simulate.ts --model credit-default --requests 2000 --shift-after 0 --pace-ms 250 --until-version 2
import { gaussian, seededRandom } from '../lib/util/random.js';

export interface SimulationOptions {
  apiUrl: string;
  model: string;
  /** Requests to send (bounded: at most 10,000). */
  requests: number;
  /** Rows per request (at most 1,000, the predict route's limit). */
  rowsPerRequest: number;
  /** Requests after which inputs shift (income down, utilization and late payments up). */
  shiftAfter: number;
  /** How far incomes move, in the training standard deviations (20). */
  shift: number;
  /** Wait this long after scoring before sending the labels (feedback arrives later). */
  feedbackDelayMs: number;
  /** Share of predictions that get a label. */
  feedbackShare: number;
  seed: number;
  headers?: Record<string, string>;
  /** Pause between requests, so a bounded number of requests spans minutes (a canary's steps). */
  paceMs: number;
  /**
   * Stop early once this version of the model is @production (checked every 10 requests); feedback is then
   * sent every 10 requests rather than at the end, so a canary's live-quality analysis sees labels.
   */
  untilVersion?: number;
}

export interface SimulationResult {
  requests: number;
  predictions: number;
  shiftedPredictions: number;
  feedbackSent: number;
  feedbackAccepted: number;
  failures: number;
  /** The first failure's status and answer, to say what went wrong. */
  firstFailure?: string;
  /** `untilVersion` was seen @production. */
  reachedVersion?: boolean;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'apiUrl' | 'model'> = {
  requests: 40,
  rowsPerRequest: 25,
  shiftAfter: 20,
  shift: 1.5,
  feedbackDelayMs: 1000,
  feedbackShare: 1,
  seed: 11,
  paceMs: 0,
};

type Row = { income: number | null; debt_ratio: number; age: number; late_payments: number; utilization: number };

/** One application like the demo dataset's (lib/demo/credit-dataset.ts), shifted when asked, with its true outcome. */
export function application(rand: () => number, shift: number): { row: Row; label: 'yes' | 'no' } {
  const income = Math.max(8, 55 - 20 * shift + 20 * gaussian(rand));
  const debtRatio = Math.min(1.5, Math.max(0, 0.35 + 0.15 * gaussian(rand)));
  const age = Math.round(Math.min(85, Math.max(18, 42 + 12 * gaussian(rand))));
  const late = Math.floor(-Math.log(1 - rand()) * 0.8 * (1 + shift));
  const utilization = Math.min(1, Math.max(0, 0.4 + 0.1 * shift + 0.25 * gaussian(rand)));
  const z = -1.2 - 0.03 * (income - 55) + 3.0 * (debtRatio - 0.35) - 0.02 * (age - 42) + 0.7 * late + 1.5 * (utilization - 0.4);
  const label = rand() < 1 / (1 + Math.exp(-z)) ? 'yes' : 'no';
  const row = { income: rand() < 0.02 ? null : Number(income.toFixed(1)), debt_ratio: Number(debtRatio.toFixed(3)), age, late_payments: late, utilization: Number(utilization.toFixed(3)) };
  return { row, label };
}

async function call(o: SimulationOptions, method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(o.apiUrl + route, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const post = (o: SimulationOptions, route: string, body: unknown) => call(o, 'POST', route, body);

async function inProduction(o: SimulationOptions, version: number): Promise<boolean> {
  const res = await call(o, 'GET', `/v1/models/${encodeURIComponent(o.model)}`);
  return res.status === 200 && (res.body.versions ?? []).some((v: { version: number; aliases: string[] }) => v.version === version && v.aliases.includes('production'));
}

async function sendFeedback(o: SimulationOptions, labels: Array<{ predictionId: string; label: string }>, result: SimulationResult): Promise<void> {
  for (let i = 0; i < labels.length; i += 500) {
    const batch = labels.slice(i, i + 500);
    const res = await post(o, '/v1/feedback', { items: batch });
    result.feedbackSent += batch.length;
    if (res.status === 200) result.feedbackAccepted += res.body.accepted;
    else {
      result.failures++;
      result.firstFailure ??= `feedback ${res.status}: ${JSON.stringify(res.body)}`;
    }
  }
}

/**
 * Runs the simulation: requests one after another (so the load stays bounded), then the delayed feedback;
 * with `untilVersion`, feedback goes every 10 requests and the run ends once that version is @production.
 */
export async function simulate(options: Partial<SimulationOptions> & Pick<SimulationOptions, 'apiUrl' | 'model'>): Promise<SimulationResult> {
  const o: SimulationOptions = { ...DEFAULT_SIMULATION, ...options };
  if (o.requests > 10_000 || o.rowsPerRequest > 1000) throw new Error('simulate is bounded: at most 10,000 requests of 1,000 rows');
  const rand = seededRandom(o.seed);
  const labels: Array<{ predictionId: string; label: string }> = [];
  const result: SimulationResult = { requests: 0, predictions: 0, shiftedPredictions: 0, feedbackSent: 0, feedbackAccepted: 0, failures: 0 };
  for (let r = 0; r < o.requests; r++) {
    const shifted = r >= o.shiftAfter;
    const apps = Array.from({ length: o.rowsPerRequest }, () => application(rand, shifted ? o.shift : 0));
    const res = await post(o, `/v1/models/${encodeURIComponent(o.model)}/predict`, { rows: apps.map((a) => a.row) });
    result.requests++;
    if (res.status !== 200) {
      result.failures++;
      result.firstFailure ??= `predict ${res.status}: ${JSON.stringify(res.body)}`;
      continue;
    }
    result.predictions += apps.length;
    if (shifted) result.shiftedPredictions += apps.length;
    res.body.predictions.forEach((p: { id: string }, i: number) => {
      if (rand() < o.feedbackShare) labels.push({ predictionId: p.id, label: apps[i].label });
    });
    if (o.untilVersion !== undefined && result.requests % 10 === 0) {
      await sendFeedback(o, labels.splice(0), result);
      if (await inProduction(o, o.untilVersion)) {
        result.reachedVersion = true;
        break;
      }
    }
    if (o.paceMs > 0) await new Promise((r) => setTimeout(r, o.paceMs));
  }
  await new Promise((r) => setTimeout(r, o.feedbackDelayMs));
  await sendFeedback(o, labels, result);
  if (o.untilVersion !== undefined) result.reachedVersion ??= await inProduction(o, o.untilVersion);
  return result;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const num = (name: string, fallback: number) => (arg(name) === undefined ? fallback : Number(arg(name)));
  const apiUrl = arg('api') ?? process.env.MLCYCLE_API_URL ?? 'http://127.0.0.1:3000';
  const key = process.env.MLCYCLE_API_KEY;
  simulate({
    apiUrl,
    model: arg('model') ?? 'credit-default',
    requests: num('requests', DEFAULT_SIMULATION.requests),
    rowsPerRequest: num('rows', DEFAULT_SIMULATION.rowsPerRequest),
    shiftAfter: num('shift-after', DEFAULT_SIMULATION.shiftAfter),
    shift: num('shift', DEFAULT_SIMULATION.shift),
    feedbackDelayMs: num('feedback-delay-ms', DEFAULT_SIMULATION.feedbackDelayMs),
    seed: num('seed', DEFAULT_SIMULATION.seed),
    paceMs: num('pace-ms', DEFAULT_SIMULATION.paceMs),
    untilVersion: arg('until-version') === undefined ? undefined : num('until-version', 0),
    headers: key ? { authorization: `Bearer ${key}` } : undefined,
  }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err) => {
      console.error((err as Error).message);
      process.exitCode = 1;
    },
  );
}
