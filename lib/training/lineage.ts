// Lineage recorded with every run: code version (package.json, git commit when a checkout is present),
// versions of the packages that shape the model bytes, and the machine that fitted it.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['onnxruntime-node', 'onnx-proto', 'apache-arrow', '@temporalio/worker'] as const;

export interface Lineage {
  code: { version: string; gitCommit?: string };
  packages: Record<string, string>;
  machine: { hostname: string; platform: string; arch: string; cpus: number; node: string; pid: number };
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  return readFile(file, 'utf8').then((s) => JSON.parse(s) as Record<string, unknown>, () => undefined);
}

/** The commit of the checkout, read from .git without running git; undefined outside a checkout. */
async function gitCommit(): Promise<string | undefined> {
  const head = await readFile(path.join(ROOT, '.git', 'HEAD'), 'utf8').catch(() => undefined);
  if (!head) return undefined;
  const ref = head.trim().match(/^ref: (.+)$/)?.[1];
  if (!ref) return /^[0-9a-f]{40}$/.test(head.trim()) ? head.trim() : undefined;
  const direct = await readFile(path.join(ROOT, '.git', ref), 'utf8').catch(() => undefined);
  if (direct) return direct.trim();
  const packed = await readFile(path.join(ROOT, '.git', 'packed-refs'), 'utf8').catch(() => '');
  return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0];
}

let cached: Promise<Lineage> | undefined;

/** Computed once per process. */
export function processLineage(): Promise<Lineage> {
  cached ??= (async () => {
    const pkg = await readJson(path.join(ROOT, 'package.json'));
    const packages: Record<string, string> = {};
    for (const name of PACKAGES) {
      const p = await readJson(path.join(ROOT, 'node_modules', name, 'package.json'));
      if (typeof p?.version === 'string') packages[name] = p.version;
    }
    return {
      code: { version: String(pkg?.version ?? 'unknown'), gitCommit: await gitCommit() },
      packages,
      machine: { hostname: os.hostname(), platform: os.platform(), arch: os.arch(), cpus: os.cpus().length, node: process.version, pid: process.pid },
    };
  })();
  return cached;
}
