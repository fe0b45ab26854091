// Answers read from Postgres on the request path (alias targets, serving configs, API keys), kept per key for a
// bounded time. Once an answer is half its TTL old it is still given out while one background read replaces it,
// so under steady traffic no request waits for Postgres, and a busy database never stalls a burst of requests
// every TTL. No answer is given out older than the TTL: past it, callers wait for a fresh read.

interface Entry<V> {
  value: Promise<V>;
  /** When the read that produced `value` started: the answer is at least this fresh. */
  readAt: number;
  refreshing: boolean;
}

export class RefreshingCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

  constructor(
    private readonly ttlMs: number,
    /** Requests may name keys that do not exist: beyond this many entries the oldest are dropped. */
    private readonly maxEntries = 1024,
  ) {}

  /**
   * The cached answer for `key`, reading it with `read(key)` when there is none fresh enough. A failed read is not kept.
   * `read` takes the key so callers can pass one function made once, not a closure per request.
   */
  get(key: K, read: (key: K) => Promise<V>): Promise<V> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry && now - entry.readAt < this.ttlMs) {
      if (!entry.refreshing && now - entry.readAt >= this.ttlMs / 2) this.refresh(key, entry, read, now);
      return entry.value;
    }
    const fresh: Entry<V> = { value: read(key), readAt: now, refreshing: false };
    fresh.value.catch(() => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    });
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, fresh);
    return fresh.value;
  }

  private refresh(key: K, entry: Entry<V>, read: (key: K) => Promise<V>, now: number): void {
    entry.refreshing = true;
    read(key).then(
      (value) => {
        // Dropped or replaced meanwhile (e.g. forgotten after a change): this answer may predate the change.
        if (this.entries.get(key) !== entry) return;
        this.entries.delete(key);
        this.entries.set(key, { value: Promise.resolve(value), readAt: now, refreshing: false });
      },
      () => {
        // The old answer stands until its TTL; the next request tries again.
        entry.refreshing = false;
      },
    );
  }

  /** Drops one key's answer (this process changed it): the next request reads it afresh. */
  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
