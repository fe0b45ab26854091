// `npm run bench [-- name ...]`: runs bench/*.bench.ts (or the named ones), each in its own process so one
// cannot warm or pollute another, keeps each one's Markdown section in bench/results/<name>.md, and
// rebuilds BENCHMARKS.md from every stored section, so running one benchmark keeps the others' figures.
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
const only = process.argv.slice(2);

async function main(): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
  const machine =
    `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  for (const file of files) {
    const name = file.replace(/\.bench\.ts$/, '');
    console.log(`running ${file} ...`);
    // Other work on the machine skews absolute figures; the 1-minute load average before the run says how busy it was.
    const load = os.loadavg()[0].toFixed(1);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(here, file)], { maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 });
    const section = `${stdout.trim()}\n\n_Measured ${new Date().toISOString().slice(0, 10)} on ${machine} (load average ${load} before the run) by \`npm run bench -- ${name}\`._\n`;
    await writeFile(path.join(resultsDir, `${name}.md`), section);
    console.log(stdout.trim());
  }
  const sections = await Promise.all(
    (await readdir(resultsDir)).filter((f) => f.endsWith('.md')).sort().map((f) => readFile(path.join(resultsDir, f), 'utf8')),
  );
  const header = [
    '# Benchmarks',
    '',
    'Made by `npm run bench` (all) or `npm run bench -- <name>` (one; the others keep their last figures, from',
    '`bench/results/`). Figures are ratios against a reference measured in the same run; absolute times are',
    'given for context only and move with the machine and its load.',
    '',
  ];
  await writeFile(path.join(here, '..', 'BENCHMARKS.md'), [...header, ...sections.map((s) => s.trim() + '\n')].join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
