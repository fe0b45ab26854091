// Access control for the API: API keys (only their sha256 is stored), roles, and the hooks that check every route.
// A route declares who may call it with `config: { roles: [...] }` (or 'public'); routes that do not are given
// roles by ROUTE_RULES below when they are registered, and anything no rule covers is admin-only.
import { hash, randomBytes } from 'node:crypto';
import { open, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ForbiddenError, UnauthorizedError, ValidationError } from '../lib/errors.js';
import { withTransaction, type Db } from '../lib/storage/db.js';
import { RefreshingCache } from '../lib/util/refreshing-cache.js';

export const ROLES = ['admin', 'trainer', 'approver', 'scorer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who may call a route. `admin` may call every route; a route open to `viewer` is open to every
 * key (every role may read); 'public' needs no key at all.
 */
export type RouteRoles = readonly Role[] | 'public';

export interface Principal {
  keyId: string;
  /** The identity decisions and alias moves are recorded under: the key's name. */
  name: string;
  roles: Role[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: RouteRoles;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * The identity an action is recorded under: the API key's name. A named identity in the body must
 * match it; with `adminMayName`, an admin key may act for a named person (e.g. start a run on
 * someone's behalf). Approval decisions never allow that: the approver is always the key.
 */
export function actingAs(principal: Principal | undefined, named: string | undefined, field: string, adminMayName = false): string | undefined {
  if (!principal) return named;
  if (named === undefined || named.trim().toLowerCase() === principal.name.trim().toLowerCase()) return principal.name;
  if (adminMayName && principal.roles.includes('admin')) return named;
  throw new ForbiddenError(`This key acts as ${principal.name}; leave out "${field}" or send your own name, not ${named}.`);
}

/** Roles for routes that do not declare them, first match wins; reads (GET/HEAD) are `viewer` unless a rule says otherwise. */
export const ROUTE_RULES: ReadonlyArray<{ match: RegExp; read?: RouteRoles; write: RouteRoles }> = [
  { match: /^\/(health|metrics|openapi\.json)$/, read: 'public', write: ['admin'] },
  { match: /^\/v1\/models\/:name\/predict$/, read: ['scorer'], write: ['scorer'] },
  { match: /^\/v1\/(datasets|training-runs|experiments|model-uploads)(\/|$)/, write: ['trainer'] },
  { match: /^\/v1\/approvals(\/|$)/, write: ['approver'] },
];

/** The roles a route ends up with: its own declaration, else the first matching rule, else admin only. */
export function resolveRouteRoles(method: string, url: string, declared: RouteRoles | undefined): RouteRoles {
  if (declared) return declared;
  const read = method === 'GET' || method === 'HEAD';
  const rule = ROUTE_RULES.find((r) => r.match.test(url));
  if (!rule) return read ? ['viewer'] : ['admin'];
  return read ? (rule.read ?? ['viewer']) : rule.write;
}

export function isAllowed(principal: Pick<Principal, 'roles'>, roles: RouteRoles): boolean {
  if (roles === 'public') return true;
  if (principal.roles.includes('admin')) return true;
  if (roles.includes('viewer')) return true;
  return principal.roles.some((r) => roles.includes(r));
}

// ---- Keys ----

const KEY_PREFIX = 'mlc';

// One-shot hash: a Hash object per call shows up when many keys are looked up.
export const hashKey = (key: string): string => hash('sha256', key, 'hex');

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  roles: Role[];
  createdBy: string | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  roles: Role[];
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const keyFromRow = (r: KeyRow): ApiKeyInfo => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  roles: r.roles,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at?.toISOString() ?? null,
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
});

export function validateRoles(roles: readonly string[]): Role[] {
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (roles.length === 0 || unknown.length > 0) {
    throw new ValidationError(`roles must name one or more of ${ROLES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}.`);
  }
  return [...new Set(roles)] as Role[];
}

/** Creates a key; the plaintext is returned once and only its sha256 is stored. */
export async function createApiKey(db: Db, k: { name: string; roles: readonly string[]; createdBy?: string }): Promise<ApiKeyInfo & { key: string }> {
  const roles = validateRoles(k.roles);
  if (!k.name.trim()) throw new ValidationError('An API key needs a name: the identity its calls are recorded under.');
  const id = randomBytes(6).toString('hex');
  const key = `${KEY_PREFIX}_${id}_${randomBytes(32).toString('base64url')}`;
  const prefix = key.slice(0, KEY_PREFIX.length + 1 + id.length);
  const { rows } = await db.query<KeyRow>(
    'insert into api_keys (id, name, prefix, key_hash, roles, created_by) values ($1, $2, $3, $4, $5, $6) returning *',
    [id, k.name.trim(), prefix, hashKey(key), roles, k.createdBy ?? null],
  );
  return { ...keyFromRow(rows[0]), key };
}

export async function listApiKeys(db: Db): Promise<ApiKeyInfo[]> {
  const { rows } = await db.query<KeyRow>('select * from api_keys order by created_at, id');
  return rows.map(keyFromRow);
}

/** Revokes a key; idempotent. Returns null for an unknown id. */
export async function revokeApiKey(db: Db, id: string): Promise<ApiKeyInfo | null> {
  await db.query('update api_keys set revoked_at = now() where id = $1 and revoked_at is null', [id]);
  const { rows } = await db.query<KeyRow>('select * from api_keys where id = $1', [id]);
  return rows[0] ? keyFromRow(rows[0]) : null;
}

/** The principal of an active key, or null for an unknown or revoked one. */
export async function findPrincipal(db: Db, key: string): Promise<Principal | null> {
  const { rows } = await db.query<KeyRow>('select * from api_keys where key_hash = $1 and revoked_at is null', [hashKey(key)]);
  const r = rows[0];
  if (!r) return null;
  await db.query(`update api_keys set last_used_at = now() where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`, [r.id]);
  return { keyId: r.id, name: r.name, roles: r.roles };
}

export const ADMIN_KEY_FILE = 'admin-api-key';

/**
 * First start: when no active admin key exists, creates one, stores only its hash, and writes the
 * plaintext once to `<dataDir>/admin-api-key` (mode 0600). Returns the file path when it created a key.
 */
export async function ensureAdminKey(db: Db, dataDir: string): Promise<{ created: boolean; file: string; key?: string }> {
  const file = path.join(dataDir, ADMIN_KEY_FILE);
  return withTransaction(db, async (client) => {
    await client.query('select pg_advisory_xact_lock(hashtext($1))', ['mlcycle:admin-key']);
    const { rowCount } = await client.query(`select 1 from api_keys where 'admin' = any(roles) and revoked_at is null`);
    if (rowCount) return { created: false, file };
    const id = randomBytes(6).toString('hex');
    const key = `${KEY_PREFIX}_${id}_${randomBytes(32).toString('base64url')}`;
    await mkdir(dataDir, { recursive: true });
    // Written before the row commits: a crash leaves at worst a file with a key that never became valid.
    const handle = await open(file, 'w', 0o600);
    try {
      await handle.writeFile(`${key}\n`);
      await handle.chmod(0o600);
    } finally {
      await handle.close();
    }
    await client.query(
      `insert into api_keys (id, name, prefix, key_hash, roles, created_by) values ($1, 'admin', $2, $3, '{admin}', 'mlcycle start')`,
      [id, key.slice(0, KEY_PREFIX.length + 1 + id.length), hashKey(key)],
    );
    return { created: true, file, key };
  });
}

// ---- Hooks ----

/** The key a request carries: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function requestKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || undefined;
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : undefined;
}

export interface RouteAccess {
  method: string;
  url: string;
  roles: RouteRoles;
}

/**
 * Installs access control on `app`; call before registering routes. Every route registered afterwards
 * gets its roles resolved (`config.roles`), and every request to a non-public route must carry an
 * active key (401) with an allowed role (403). A key's answer is kept up to `cacheMs` (default 10 s, refreshed ahead),
 * so a revocation from another process takes effect within that time; `forget` drops the cache here.
 * Returns the resolved route table (for tests and docs).
 */
export function installAuth(app: FastifyInstance, db: Db, options: { cacheMs?: number } = {}): { routes: RouteAccess[]; forget: () => void } {
  const table: RouteAccess[] = [];
  const cacheMs = options.cacheMs ?? 10_000;
  // Keyed by the key as sent: hashing it on every request shows up in the profile. Only the database needs the hash.
  const cache = new RefreshingCache<string, Principal | null>(cacheMs, 10_000);
  const lookup = (key: string) => findPrincipal(db, key);
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const declared = route.config?.roles;
    for (const method of methods) {
      const roles = resolveRouteRoles(method, route.url, declared);
      table.push({ method, url: route.url, roles });
    }
    const roles = resolveRouteRoles(methods[0], route.url, declared);
    route.config = { ...route.config, roles };
    // The OpenAPI document lists the access answers of every protected route.
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (roles !== 'public' && response) {
      for (const status of ['401', '403']) if (!(status in response) && !(Number(status) in response)) response[status] = { $ref: 'ErrorResponse' };
    }
  });
  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config?.roles;
    // No route matched (the 404 handler) or a public route.
    if (!request.routeOptions.url || roles === undefined || roles === 'public') return;
    const key = requestKey(request);
    if (!key) throw new UnauthorizedError('This route needs an API key: send `Authorization: Bearer <key>` (the first admin key is in <dataDir>/admin-api-key).');
    const principal = await cache.get(key, lookup);
    if (!principal) throw new UnauthorizedError('The API key is unknown or revoked.');
    if (!isAllowed(principal, roles)) {
      throw new ForbiddenError(`Key "${principal.name}" (${principal.roles.join(', ')}) may not ${request.method} ${request.routeOptions.url}; it needs one of: ${(roles as readonly Role[]).join(', ')}.`);
    }
    request.principal = principal;
  });
  return { routes: table, forget: () => cache.clear() };
}

/** The caller's identity for records (alias history, gate declarations). */
export function actorOf(request: FastifyRequest): string {
  return request.principal?.name ?? 'api';
}
