// Keeps an API instance's copy of every model's deployment current: LISTEN on a dedicated connection
// (reconnecting after a loss) for changes within milliseconds, plus a poll of the generation sequence as a
// safety net (and as the only path where notifications do not arrive, e.g. the embedded PGlite wire server).
// A new state is adopted only after `prepare` (loading and warming its sessions) succeeds, so no request
// is routed to a version that is not ready; the old state keeps serving meanwhile.
import type pg from 'pg';
import type { Db } from '../storage/db.js';
import { deploymentGeneration, DEPLOYMENTS_CHANNEL, listDeployments, type DeploymentState } from './deployments.js';

export interface WatcherOptions {
  /** LISTEN for notifications (real Postgres); without it, only polling notices changes. */
  listen: boolean;
  /** How often the generation is polled. */
  pollMs: number;
  /** Makes a state servable (load and warm its versions); a failure keeps the previous state and retries. */
  prepare: (state: DeploymentState) => Promise<void>;
  onError: (err: unknown, context: string) => void;
}

export class DeploymentWatcher {
  private states = new Map<string, DeploymentState>();
  private seenGeneration = -1;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private listener: pg.PoolClient | undefined;
  private closed = false;
  /** Count of adopted changes, for tests and metrics. */
  adopted = 0;

  constructor(
    private readonly db: Db,
    private readonly options: WatcherOptions,
  ) {}

  /** Loads every deployment (preparing each) before returning, then watches. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.options.listen) await this.connectListener();
    this.timer = setInterval(() => void this.refresh(), this.options.pollMs);
    this.timer.unref();
  }

  get(modelName: string): DeploymentState | undefined {
    return this.states.get(modelName);
  }

  all(): DeploymentState[] {
    return [...this.states.values()];
  }

  /** Re-reads deployments if the generation moved. Concurrent calls coalesce into one more pass. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && !this.closed);
      } catch (err) {
        this.options.onError(err, 'reading deployments');
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async pass(): Promise<void> {
    const generation = await deploymentGeneration(this.db);
    if (generation === this.seenGeneration) return;
    const rows = await listDeployments(this.db);
    const next = new Map<string, DeploymentState>();
    let complete = true;
    for (const state of rows) {
      const current = this.states.get(state.modelName);
      if (current && current.generation === state.generation) {
        next.set(state.modelName, current);
        continue;
      }
      try {
        await this.options.prepare(state);
        next.set(state.modelName, state);
        this.adopted++;
      } catch (err) {
        complete = false;
        this.options.onError(err, `preparing ${state.modelName} generation ${state.generation}; the previous deployment keeps serving`);
        if (current) next.set(state.modelName, current);
      }
    }
    this.states = next;
    // An incomplete pass is retried at the next poll.
    if (complete) this.seenGeneration = generation;
  }

  private async connectListener(): Promise<void> {
    if (this.closed) return;
    let client: pg.PoolClient | undefined;
    try {
      client = await this.db.connect();
      const own = client;
      own.on('notification', (msg) => {
        if (msg.channel === DEPLOYMENTS_CHANNEL) void this.refresh();
      });
      own.on('error', (err) => {
        // Once released (by close, or after an earlier error) the pool owns the connection and its errors.
        if (this.listener !== own) return;
        this.options.onError(err, 'deployment listener connection lost; reconnecting');
        this.listener = undefined;
        own.release(err);
        setTimeout(() => void this.connectListener(), 500).unref();
      });
      this.listener = own;
      await own.query(`listen ${DEPLOYMENTS_CHANNEL}`);
      // Anything that changed while we were not listening.
      void this.refresh();
    } catch (err) {
      if (client) {
        // The connection's error handler has already released it and scheduled the retry, or close() took it.
        if (this.listener !== client) return;
        this.listener = undefined;
        client.release(err as Error);
      }
      if (this.closed) return;
      this.options.onError(err, 'deployment listener could not connect; retrying');
      setTimeout(() => void this.connectListener(), 1000).unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const l = this.listener;
    this.listener = undefined;
    if (l) {
      await l.query(`unlisten ${DEPLOYMENTS_CHANNEL}`).catch(() => {});
      l.release();
    }
    await this.refreshing;
  }
}
