// Content-addressed artifact store on a local directory: atomic writes, sha256-verified reads.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactIntegrityError, NotFoundError } from '../errors.js';

const URI_PREFIX = 'artifact://sha256/';

export interface StoredArtifact {
  sha256: string;
  uri: string;
  bytes: number;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function artifactUri(sha256: string): string {
  return URI_PREFIX + sha256;
}

/** Extracts the sha256 from an artifact URI, rejecting anything else. */
export function parseArtifactUri(uri: string): string {
  if (!uri.startsWith(URI_PREFIX)) throw new NotFoundError(`Not an artifact URI: ${uri}`);
  const hash = uri.slice(URI_PREFIX.length);
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new NotFoundError(`Malformed artifact URI: ${uri}`);
  return hash;
}

/** Temp and scratch files carry a tag (e.g. a run id) so a retried attempt can remove what a dead one left. */
function tagPrefix(tag: string): string {
  return createHash('sha256').update(tag).digest('hex').slice(0, 16);
}

/**
 * Bytes on their way into the store: hashed as they are written to a temp file, which `commit` renames
 * to its content address. Nothing is visible under `sha256/` before `commit`; `abort` removes the temp file.
 */
export class ArtifactWriter {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private done = false;

  private constructor(
    private readonly store: ArtifactStore,
    private readonly file: FileHandle,
    readonly tempPath: string,
  ) {}

  /** @internal Use ArtifactStore.createWriter. */
  static async open(store: ArtifactStore, tempPath: string): Promise<ArtifactWriter> {
    await mkdir(path.dirname(tempPath), { recursive: true });
    return new ArtifactWriter(store, await open(tempPath, 'wx'), tempPath);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('ArtifactWriter: write after commit or abort');
    this.hash.update(chunk);
    this.size += chunk.byteLength;
    let at = 0;
    while (at < chunk.byteLength) at += (await this.file.write(chunk, at, chunk.byteLength - at)).bytesWritten;
  }

  /** Flushes to disk and renames the temp file to its sha256 address (neither when the content is already stored). */
  async commit(): Promise<StoredArtifact> {
    if (this.done) throw new Error('ArtifactWriter: commit after commit or abort');
    this.done = true;
    const sha256 = this.hash.digest('hex');
    const target = this.store.pathFor(sha256);
    try {
      // Checked before the fsync: an unchanged source ingested again, or a retried put, costs no disk flush.
      const existing = await stat(target).catch(() => undefined);
      if (existing?.size !== this.size) {
        await this.file.sync();
        await mkdir(path.dirname(target), { recursive: true });
        await rename(this.tempPath, target);
      }
    } finally {
      await this.file.close().catch(() => {});
      await rm(this.tempPath, { force: true });
    }
    return { sha256, uri: artifactUri(sha256), bytes: this.size };
  }

  /** Drops what was written; idempotent. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.file.close().catch(() => {});
    await rm(this.tempPath, { force: true });
  }
}

export class ArtifactStore {
  constructor(readonly root: string) {}

  /** @internal The file holding an artifact. */
  pathFor(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  private get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  /** Removes every temp and scratch file carrying `tag` (call at the start of a retried attempt). */
  async removeTemp(tag: string): Promise<void> {
    const prefix = `${tagPrefix(tag)}.`;
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(path.join(this.tmpDir, n), { force: true })));
  }

  /**
   * Starts a streamed write (see ArtifactWriter) into a fresh temp file on the store's filesystem, so the
   * commit's rename is atomic; `removeTemp(tag)` removes what an earlier, dead attempt with the same tag left.
   */
  createWriter(tag = 'anonymous'): Promise<ArtifactWriter> {
    return ArtifactWriter.open(this, path.join(this.tmpDir, `${tagPrefix(tag)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`));
  }

  /**
   * Stores bytes under their sha256. Idempotent: storing the same bytes twice
   * is a no-op; a crash mid-write leaves only a temp file, never a torn artifact.
   */
  async put(bytes: Uint8Array): Promise<StoredArtifact> {
    const writer = await this.createWriter();
    try {
      await writer.write(bytes);
      return await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  /** Reads an artifact by URI or sha256 and proves its bytes still hash to that address. */
  async get(uriOrSha: string): Promise<Uint8Array> {
    const sha256 = this.shaOf(uriOrSha);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathFor(sha256));
    } catch (err) {
      throw this.missing(sha256, err);
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new ArtifactIntegrityError(`Artifact ${sha256} is corrupt: its bytes hash to ${actual}`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Opens an artifact for random access (an Arrow IPC file is read footer first, then batch by batch).
   * Its bytes are not checked here: call `verify` first when they must be proven. The caller closes it.
   */
  async openFile(uriOrSha: string): Promise<FileHandle> {
    const sha256 = this.shaOf(uriOrSha);
    try {
      return await open(this.pathFor(sha256), 'r');
    } catch (err) {
      throw this.missing(sha256, err);
    }
  }

  /** Re-hashes an artifact as a stream; throws ArtifactIntegrityError when its bytes no longer match its address. */
  async verify(uriOrSha: string): Promise<void> {
    const sha256 = this.shaOf(uriOrSha);
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(this.pathFor(sha256), { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    } catch (err) {
      throw this.missing(sha256, err);
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) throw new ArtifactIntegrityError(`Artifact ${sha256} is corrupt: its bytes hash to ${actual}`);
  }

  async has(sha256: string): Promise<boolean> {
    return (await stat(this.pathFor(sha256)).catch(() => undefined)) !== undefined;
  }

  private shaOf(uriOrSha: string): string {
    return uriOrSha.startsWith(URI_PREFIX) ? parseArtifactUri(uriOrSha) : uriOrSha;
  }

  private missing(sha256: string, err: unknown): unknown {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new NotFoundError(`Artifact ${sha256} is not in the store at ${this.root}`);
    return err;
  }
}
