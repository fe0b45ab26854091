// Recorded workflow histories: fixtures for replay tests. Set RECORD_HISTORIES=1 to refresh them from real runs.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { temporal } from '@temporalio/proto';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export const HISTORIES_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));

type History = temporal.api.history.v1.IHistory;

export async function saveHistory(name: string, workflowId: string, history: History): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  await writeFile(path.join(HISTORIES_DIR, `${name}.json`), JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
}

export async function loadHistories(): Promise<Array<{ name: string; workflowId: string; history: History }>> {
  const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => {
      const { workflowId, history } = JSON.parse(await readFile(path.join(HISTORIES_DIR, f), 'utf8'));
      return { name: f.replace(/\.json$/, ''), workflowId, history: historyFromJSON(history) };
    }),
  );
}
