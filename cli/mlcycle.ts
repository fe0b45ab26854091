// The mlcycle command line: `start` runs the whole stack and the demo; `approve`/`reject` decide a pending release;
// `keys` creates, lists and revokes API keys. Calls to the API send MLCYCLE_API_KEY or `<dataDir>/admin-api-key`.
import { Command, Option } from 'commander';
import { DEFAULTS, loadConfig } from '../lib/config.js';
import { cliApiKey, start } from './start.js';

/** Calls the API with the CLI's key; a non-2xx answer becomes an error with the API's message. */
async function callApi(api: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const key = await cliApiKey(loadConfig());
  const res = await fetch(api + route, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { error?: string };
  if (!res.ok) throw new Error(`${res.status}: ${json.error ?? JSON.stringify(json)}`);
  return json;
}

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
    .description(`${decision === 'approve' ? 'Approve' : 'Reject'} a release (or training run) that waits for a decision`)
    .requiredOption('--reason <why>', 'why (recorded in the registry)')
    .addOption(apiOption)
    .action(async (workflowId: string, opts: { reason: string; api: string }) => {
      // The approver is the API key's name (MLCYCLE_API_KEY or the admin key file).
      const body = await callApi(opts.api, 'POST', `/v1/approvals/${encodeURIComponent(workflowId)}`, { decision, reason: opts.reason });
      console.log(JSON.stringify(body, null, 2));
    });
}

const keys = program.command('keys').description('API keys (needs an admin key)');
keys
  .command('create')
  .description('Create a key; its secret is printed once')
  .requiredOption('--name <name>', 'identity the key acts as, e.g. carol@example.com')
  .requiredOption('--role <role...>', 'one or more of admin, trainer, approver, scorer, viewer')
  .addOption(apiOption)
  .action(async (opts: { name: string; role: string[]; api: string }) => {
    console.log(JSON.stringify(await callApi(opts.api, 'POST', '/v1/api-keys', { name: opts.name, roles: opts.role }), null, 2));
  });
keys
  .command('list')
  .description('List keys (never their secrets)')
  .addOption(apiOption)
  .action(async (opts: { api: string }) => {
    console.log(JSON.stringify(await callApi(opts.api, 'GET', '/v1/api-keys'), null, 2));
  });
keys
  .command('revoke <id>')
  .description('Revoke a key by id')
  .addOption(apiOption)
  .action(async (id: string, opts: { api: string }) => {
    console.log(JSON.stringify(await callApi(opts.api, 'DELETE', `/v1/api-keys/${encodeURIComponent(id)}`), null, 2));
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`mlcycle: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
