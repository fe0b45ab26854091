import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactIntegrityError, NotFoundError } from '../../../lib/errors.js';
import { ArtifactStore, sha256Hex } from '../../../lib/storage/artifacts.js';

async function store() {
  return new ArtifactStore(await mkdtemp(path.join(os.tmpdir(), 'artifacts-')));
}

describe('ArtifactStore', () => {
  it('addresses bytes by sha256 and reads them back', async () => {
    const s = await store();
    const bytes = new TextEncoder().encode('hello model');
    const a = await s.put(bytes);
    expect(a.sha256).toBe(sha256Hex(bytes));
    expect(a.uri).toBe(`artifact://sha256/${a.sha256}`);
    expect(Buffer.from(await s.get(a.uri)).toString()).toBe('hello model');
    expect(Buffer.from(await s.get(a.sha256)).toString()).toBe('hello model');
  });

  it('is idempotent and leaves no temp files', async () => {
    const s = await store();
    const bytes = new Uint8Array([1, 2, 3]);
    const [a, b] = await Promise.all([s.put(bytes), s.put(bytes)]);
    expect(a).toEqual(b);
    const dir = path.join(s.root, 'sha256', a.sha256.slice(0, 2));
    expect(await readdir(dir)).toEqual([a.sha256]);
  });

  it('refuses bytes that no longer match their address', async () => {
    const s = await store();
    const a = await s.put(new Uint8Array([9, 9, 9]));
    await writeFile(path.join(s.root, 'sha256', a.sha256.slice(0, 2), a.sha256), new Uint8Array([6, 6, 6]));
    await expect(s.get(a.uri)).rejects.toThrow(ArtifactIntegrityError);
  });

  it('reports a missing artifact as not found', async () => {
    const s = await store();
    await expect(s.get('0'.repeat(64))).rejects.toThrow(NotFoundError);
    await expect(s.get('artifact://sha256/xyz')).rejects.toThrow(NotFoundError);
  });
});
