// Content-addressed artifact store on a local directory: atomic writes, sha256-verified reads.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile, rm } from 'node:fs/promises';
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

export class ArtifactStore {
  constructor(readonly root: string) {}

  private pathFor(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  /**
   * Stores bytes under their sha256. Idempotent: storing the same bytes twice
   * is a no-op; a crash mid-write leaves only a temp file, never a torn artifact.
   */
  async put(bytes: Uint8Array): Promise<StoredArtifact> {
    const sha256 = sha256Hex(bytes);
    const target = this.pathFor(sha256);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size !== bytes.byteLength) {
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, bytes, { flush: true });
        await rename(tmp, target);
      } finally {
        await rm(tmp, { force: true });
      }
    }
    return { sha256, uri: artifactUri(sha256), bytes: bytes.byteLength };
  }

  /** Reads an artifact by URI or sha256 and proves its bytes still hash to that address. */
  async get(uriOrSha: string): Promise<Uint8Array> {
    const sha256 = uriOrSha.startsWith(URI_PREFIX) ? parseArtifactUri(uriOrSha) : uriOrSha;
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathFor(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError(`Artifact ${sha256} is not in the store at ${this.root}`);
      }
      throw err;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new ArtifactIntegrityError(`Artifact ${sha256} is corrupt: its bytes hash to ${actual}`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async has(sha256: string): Promise<boolean> {
    return (await stat(this.pathFor(sha256)).catch(() => undefined)) !== undefined;
  }
}
