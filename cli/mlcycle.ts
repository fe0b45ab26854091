// The mlcycle command line: `start` runs the whole stack and the demo; `approve`/`reject` decide a pending release.
import { Command, Option } from 'commander';
import { DEFAULTS, loadConfig } from '../lib/config.js';
import { start } from './start.js';

const program = new Command('mlcycle').description('The ML lifecycle on Temporal').showHelpAfterError();

program
  .command('start')
  .description('Start Temporal and Postgres (embedded unless configured), the workers and the API, then run the demo job')
  .option('--no-demo', 'start the stack without running the demo job')
  .action(async (opts: { demo: boolean }) => {
    await start(loadConfig(), { demo: opts.demo });
  });

const apiOption = new Option('--api <url>', 'mlcycle API base URL').default(`http://${DEFAULTS.apiHost}:${DEFAULTS.apiPort}`).env('MLCYCLE_API_URL');

for (const decision of ['approve', 'reject'] as const) {
  program
    .command(`${decision} <workflowId>`)
    .description(`${decision === 'approve' ? 'Approve' : 'Reject'} a training run that waits for a decision`)
    .requiredOption('--approver <who>', 'who decides (recorded in the registry)')
    .requiredOption('--reason <why>', 'why (recorded in the registry)')
    .addOption(apiOption)
    .action(async (workflowId: string, opts: { approver: string; reason: string; api: string }) => {
      const res = await fetch(`${opts.api}/v1/approvals/${encodeURIComponent(workflowId)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ decision, approver: opts.approver, reason: opts.reason }),
      });
      const body = (await res.json()) as { error?: string };
      if (!res.ok) throw new Error(`${res.status}: ${body.error ?? JSON.stringify(body)}`);
      console.log(JSON.stringify(body, null, 2));
    });
}

program.parseAsync().catch((err: unknown) => {
  console.error(`mlcycle: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
