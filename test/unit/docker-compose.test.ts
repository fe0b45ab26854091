// No Docker engine runs in CI, so docker-compose.yml, the Dockerfile and deploy/ are checked
// statically: against lib/config.ts (the variables the code reads and how it validates them),
// against each other (service names, ports, volumes), and against the files in the repository.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULTS, ENV_VARS, loadConfig } from '../../lib/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string };
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  ports?: Array<string | number | { target: number; published?: string | number }>;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// Compose files use YAML merge keys (`<<: *anchor`), which the yaml package applies only when asked.
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services;
const MLCYCLE_SERVICES = ['mlcycle-worker', 'mlcycle-api'] as const;

/** The environment a service's container gets, in either compose syntax (map or KEY=VALUE list). */
function envOf(name: string): Record<string, string> {
  const env = services[name]?.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const i = entry.indexOf('=');
        return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Published ports as { host, container } pairs, from short ("[ip:]host:container[/proto]") or long syntax. */
function portsOf(name: string): Array<{ host: number; container: number }> {
  return (services[name]?.ports ?? []).map((p) => {
    if (typeof p === 'object') return { host: Number(p.published ?? p.target), container: Number(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const container = Number(parts[parts.length - 1]);
    const host = parts.length > 1 ? Number(parts[parts.length - 2]) : container;
    return { host, container };
  });
}

/** Volume mounts as { source, target }, from short ("source:target[:mode]") or long syntax. */
function mountsOf(name: string): Array<{ source: string; target: string }> {
  return (services[name]?.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source ?? '', target: v.target };
    const [source, target] = v.split(':');
    return { source, target };
  });
}

function dependsOn(name: string): Record<string, string | undefined> {
  const deps = services[name]?.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, v?.condition]));
}

/** host:port (no scheme) -> its parts. */
function hostPort(address: string): { host: string; port: number } {
  const [host, port] = address.split(':');
  return { host, port: Number(port) };
}

// --- Dockerfile: instructions with continuation lines joined and comments dropped ---
const dockerfile = read('Dockerfile')
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const [, instruction, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    return { instruction: (instruction ?? '').toUpperCase(), args: args ?? '' };
  });
const instructions = (name: string): string[] => dockerfile.filter((d) => d.instruction === name).map((d) => d.args);

/** CMD/command in exec (JSON/array) form; a shell-form string is split on spaces. */
function argv(command: string | string[]): string[] {
  if (Array.isArray(command)) return command;
  const trimmed = command.trim();
  return trimmed.startsWith('[') ? (JSON.parse(trimmed) as string[]) : trimmed.split(/\s+/);
}
const scriptsIn = (args: string[]): string[] => args.filter((a) => /\.(ts|js|mjs)$/.test(a));
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
/** The entry file an npm script runs (`tsx api/server.ts` -> `api/server.ts`). */
const npmScriptEntry = (script: string): string | undefined => scriptsIn(argv(packageJson.scripts[script] ?? ''))[0];

describe('docker-compose.yml', () => {
  it('defines the production-shaped stack', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'mlcycle-worker', 'mlcycle-api', 'prometheus']) {
      expect(services, `service ${name}`).toHaveProperty(name);
    }
    expect(services.postgres.image).toMatch(/^postgres:15/);
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services.prometheus.image).toMatch(/^prom\/prometheus:/);
    for (const name of MLCYCLE_SERVICES) {
      const build = services[name].build;
      expect(typeof build === 'string' ? build : build?.context, `${name} builds the repository's Dockerfile`).toBe('.');
    }
  });

  it.each(MLCYCLE_SERVICES)('%s sets only variables lib/config.ts reads, with values loadConfig accepts', (name) => {
    const env = envOf(name);
    const known: readonly string[] = ENV_VARS;
    for (const key of Object.keys(env)) expect(known, `${name} sets ${key}, which lib/config.ts does not read`).toContain(key);
    for (const [key, value] of Object.entries(env)) expect(value, `${name} ${key} is interpolated by compose`).not.toContain('$');

    const config = loadConfig(env, '/app');
    // External services, never the embedded ones.
    expect(config.databaseUrl).toBeDefined();
    expect(config.temporal.address).toBeDefined();
    expect(path.isAbsolute(env.ARTIFACT_DIR ?? '')).toBe(true);
    expect(config.artifactDir).toBe(env.ARTIFACT_DIR);
  });

  it('worker and API agree on database, Temporal namespace and task queue', () => {
    const [worker, api] = MLCYCLE_SERVICES.map((name) => loadConfig(envOf(name), '/app'));
    expect(worker.databaseUrl).toBe(api.databaseUrl);
    expect(worker.temporal.address).toBe(api.temporal.address);
    expect(worker.temporal.namespace).toBe(api.temporal.namespace);
    expect(worker.taskQueues).toEqual(api.taskQueues);
    expect(worker.artifactDir).toBe(api.artifactDir);
  });

  it('the API listens on all interfaces, on the port that is published and health-checked', () => {
    const api = loadConfig(envOf('mlcycle-api'), '/app').api;
    expect(api.host).toBe('0.0.0.0');
    expect(api.port).toBe(DEFAULTS.apiPort);
    expect(portsOf('mlcycle-api')).toContainEqual({ host: api.port, container: api.port });
    const test = services['mlcycle-api'].healthcheck?.test;
    expect(argv(test ?? []).join(' ')).toContain(`127.0.0.1:${api.port}/health`);
  });

  it('the Temporal UI is published on DEFAULTS.uiPort and points at the temporal service', () => {
    expect(portsOf('temporal-ui')).toContainEqual({ host: DEFAULTS.uiPort, container: 8080 });
    expect(envOf('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('TEMPORAL_ADDRESS names the temporal service and its frontend port', () => {
    for (const name of MLCYCLE_SERVICES) {
      const { host, port } = hostPort(loadConfig(envOf(name), '/app').temporal.address ?? '');
      expect(services).toHaveProperty(host);
      expect(host).toBe('temporal');
      expect(port).toBe(7233);
      expect(dependsOn(name).temporal).toBe('service_healthy');
    }
    expect(services.temporal.healthcheck?.test).toBeDefined();
    expect(portsOf('temporal')).toContainEqual({ host: 7233, container: 7233 });
  });

  it('the namespace mlcycle uses is the one auto-setup registers and the health check waits for', () => {
    const namespace = loadConfig(envOf('mlcycle-api'), '/app').temporal.namespace;
    expect(envOf('temporal').DEFAULT_NAMESPACE).toBe(namespace);
    expect(argv(services.temporal.healthcheck?.test ?? []).join(' ')).toContain(`--namespace ${namespace}`);
  });

  it('Temporal persists in the postgres service with the Postgres 12+ plugin', () => {
    const env = envOf('temporal');
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgres');
    expect(env.POSTGRES_USER).toBe(envOf('postgres').POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(envOf('postgres').POSTGRES_PASSWORD);
    expect(dependsOn('temporal').postgres).toBe('service_healthy');
    expect(services.postgres.healthcheck?.test).toBeDefined();
  });

  it('DATABASE_URL points at the postgres service, in a database of its own created by the init script', () => {
    const urls = new Set(MLCYCLE_SERVICES.map((name) => loadConfig(envOf(name), '/app').databaseUrl));
    expect(urls.size).toBe(1);
    const url = new URL([...urls][0] ?? '');
    expect(url.hostname).toBe('postgres');
    expect(services).toHaveProperty(url.hostname);
    expect(url.port || '5432').toBe('5432');
    for (const name of MLCYCLE_SERVICES) expect(dependsOn(name).postgres).toBe('service_healthy');

    const database = url.pathname.slice(1);
    // Separate from Temporal's databases (auto-setup: temporal, temporal_visibility).
    expect(['temporal', 'temporal_visibility', envOf('postgres').POSTGRES_USER, 'postgres']).not.toContain(database);

    const init = mountsOf('postgres').find((m) => m.target.startsWith('/docker-entrypoint-initdb.d/'));
    expect(init, 'postgres mounts an init script').toBeDefined();
    const sql = read(init?.source ?? '');
    const role = /CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)'/i.exec(sql);
    expect(role?.[1]).toBe(decodeURIComponent(url.username));
    expect(role?.[2]).toBe(decodeURIComponent(url.password));
    expect(sql).toMatch(new RegExp(`CREATE DATABASE ${database} OWNER ${url.username}\\b`, 'i'));
  });

  it('worker and API share the artifact volume at ARTIFACT_DIR', () => {
    const sources = MLCYCLE_SERVICES.map((name) => {
      const artifactDir = envOf(name).ARTIFACT_DIR;
      const mount = mountsOf(name).find((m) => m.target === artifactDir);
      expect(mount, `${name} mounts a volume at ARTIFACT_DIR=${artifactDir}`).toBeDefined();
      return mount?.source ?? '';
    });
    expect(sources[0]).toBe(sources[1]);
    // A named volume (declared at top level), not a bind mount of some host path.
    expect(compose.volumes ?? {}).toHaveProperty(sources[0]);
  });

  it('runs the worker and the API from entry files that exist, the same ones npm run worker / api use', () => {
    const workerArgs = argv(services['mlcycle-worker'].command ?? '');
    expect(scriptsIn(workerArgs)).toEqual([npmScriptEntry('worker')]);
    // The API service keeps the image's default command.
    expect(services['mlcycle-api'].command).toBeUndefined();
    for (const file of scriptsIn(workerArgs)) expect(existsSync(path.join(ROOT, file)), file).toBe(true);
  });
});

describe('deploy/prometheus.yml', () => {
  const promConfig = parse(read('deploy/prometheus.yml')) as {
    scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
  };
  const targetsOf = (job: string) => promConfig.scrape_configs.find((s) => s.job_name === job)?.static_configs.flatMap((c) => c.targets) ?? [];

  it('is the file mounted into the prometheus service', () => {
    const mount = mountsOf('prometheus').find((m) => m.target === '/etc/prometheus/prometheus.yml');
    expect(path.normalize(mount?.source ?? '')).toBe(path.normalize('./deploy/prometheus.yml'));
  });

  it('scrapes /metrics on the API service at its configured port', () => {
    const api = loadConfig(envOf('mlcycle-api'), '/app').api;
    const job = promConfig.scrape_configs.find((s) => s.job_name === 'mlcycle-api');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(targetsOf('mlcycle-api')).toEqual([`mlcycle-api:${api.port}`]);
    expect(services).toHaveProperty('mlcycle-api');
  });

  it('scrapes Temporal on the port its PROMETHEUS_ENDPOINT listens on', () => {
    const { port } = hostPort(envOf('temporal').PROMETHEUS_ENDPOINT ?? '');
    expect(targetsOf('temporal')).toEqual([`temporal:${port}`]);
  });
});

describe('Dockerfile', () => {
  it('builds on node 20 slim, installs production dependencies only, skips the onnxruntime download', () => {
    expect(instructions('FROM')).toEqual(['node:20-bookworm-slim']);
    const run = instructions('RUN').join('\n');
    expect(run).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev/);
    const copied = instructions('COPY').join(' ');
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) expect(copied).toContain(file);
    // --omit=dev drops devDependencies, so the TypeScript loader must be a runtime dependency.
    expect(packageJson.dependencies).toHaveProperty('tsx');
  });

  it('runs as a non-root user', () => {
    const users = instructions('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('its default command runs the API entry file that npm run api uses, and the file exists', () => {
    const cmds = instructions('CMD');
    const cmd = argv(cmds[cmds.length - 1] ?? '');
    expect(cmd.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    expect(scriptsIn(cmd)).toEqual([npmScriptEntry('api')]);
    for (const file of scriptsIn(cmd)) expect(existsSync(path.join(ROOT, file)), file).toBe(true);
  });

  it('copies every directory the entry files import, and .dockerignore does not drop them', () => {
    // Follow relative imports from the entry files (plus the workflow bundle root, which the worker
    // hands to webpack by path) and collect the top-level directories they live in.
    const seen = new Set<string>();
    const queue = ['api/server.ts', 'workers/main.ts', 'workflows/index.ts'];
    while (queue.length > 0) {
      const file = queue.pop() ?? '';
      if (seen.has(file)) continue;
      seen.add(file);
      for (const [, spec] of read(file).matchAll(/(?:from|import)\s*\(?\s*['"](\.\.?\/[^'"]+)['"]/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
        if (existsSync(path.join(ROOT, target))) queue.push(target);
      }
    }
    const needed = new Set([...seen].map((f) => f.split('/')[0]));
    const copiedSources = instructions('COPY').flatMap((args) => {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1).map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));
    });
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.replace(/^\*\*\//, '').replace(/\/$/, ''));
    for (const dir of needed) {
      expect(copiedSources.includes(dir) || copiedSources.includes('.'), `Dockerfile copies ${dir}/`).toBe(true);
      expect(ignored, `.dockerignore keeps ${dir}/`).not.toContain(dir);
    }
    expect(needed).toContain('lib');
    expect(needed).toContain('workflows');
  });
});
