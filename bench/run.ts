// `npm run bench`: runs every bench/*.bench.ts in its own process (so one cannot warm or pollute another)
// and writes their Markdown sections, with the command and machine, to BENCHMARKS.md.
import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

async function main(): Promise<void> {
  const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
  const sections: string[] = [];
  for (const file of files) {
    console.log(`running ${file} ...`);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(here, file)], { maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 });
    sections.push(stdout.trim());
    console.log(stdout.trim());
  }
  const header = [
    '# Benchmarks',
    '',
    `Made by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. Figures are ratios against a reference measured in the same run; ` +
      'absolute times are given for context only and move with the machine.',
    '',
  ];
  await writeFile(path.join(here, '..', 'BENCHMARKS.md'), [...header, ...sections].join('\n') + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
