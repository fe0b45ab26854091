// Access control: every route walked with no key, a revoked key and every role; the approver's identity
// comes from the key; keys are created, listed and revoked through the API and stored hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, isAllowed, ROLES, type Role } from '../../api/auth.js';
import { approveUpdate, releaseStatusQuery, releaseWorkflow, releaseWorkflowId } from '../../workflows/index.js';
import { registerCandidate } from '../lib/release/fixtures.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
const keys = {} as Record<Role, string>;

beforeAll(async () => {
  stack = await startStack();
  for (const role of ROLES) keys[role] = await stack.createKey([role], `${role}@example.com`);
});
afterAll(async () => stack?.stop());

/** app.inject that fails naming the route instead of hanging the whole walk. */
async function call(method: string, url: string, headers: Record<string, string> = {}) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${method} ${url} did not answer within 10 s`)), 10_000);
  });
  try {
    return await Promise.race([stack.app.inject({ method: method as 'GET', url, headers }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A concrete URL for a route pattern: every `:param` becomes a value no resource has. */
const concrete = (url: string) => url.replace(/:(\w+)/g, (_, p: string) => (p === 'version' ? '999' : `no-such-${p}`));

describe('every route', () => {
  it('declares its roles (inline or by rule) and only public ones answer without a key', async () => {
    const routes = stack.app.auth.routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(20);
    const publicRoutes = routes.filter((r) => r.roles === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes).toEqual(expect.arrayContaining(['GET /health', 'GET /metrics', 'GET /openapi.json']));
    // Only reads about the server itself may be public (health, metrics, the API description, the v2 protocol's probes).
    for (const route of publicRoutes) expect(route).toMatch(/^GET \/(health|metrics|openapi\.json|v2|v2\/health\/(live|ready))$/);
    for (const r of routes) {
      if (r.roles === 'public') continue;
      const res = await call(r.method, concrete(r.url));
      expect(res.statusCode, `${r.method} ${r.url} without a key`).toBe(401);
    }
  });

  it('answers 403 to every role the route does not allow and lets the others through', async () => {
    const routes = stack.app.auth.routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && r.roles !== 'public');
    for (const r of routes) {
      for (const role of ROLES) {
        const res = await call(r.method, concrete(r.url), { authorization: `Bearer ${keys[role]}` });
        const allowed = isAllowed({ roles: [role] }, r.roles);
        if (allowed) expect([401, 403], `${role} on ${r.method} ${r.url}: ${res.body}`).not.toContain(res.statusCode);
        else expect(res.statusCode, `${role} on ${r.method} ${r.url}`).toBe(403);
      }
    }
  });

  it('gives the roles the issue names their work', () => {
    const can = (role: Role, method: string, url: string) => {
      const route = stack.app.auth.routes.find((r) => r.method === method && r.url === url);
      expect(route, `${method} ${url} is a route`).toBeDefined();
      return isAllowed({ roles: [role] }, route!.roles);
    };
    expect(can('scorer', 'POST', '/v1/models/:name/predict')).toBe(true);
    expect(can('viewer', 'POST', '/v1/models/:name/predict')).toBe(false);
    expect(can('trainer', 'POST', '/v1/training-runs')).toBe(true);
    expect(can('approver', 'POST', '/v1/training-runs')).toBe(false);
    expect(can('approver', 'POST', '/v1/approvals/:workflowId')).toBe(true);
    expect(can('trainer', 'POST', '/v1/approvals/:workflowId')).toBe(false);
    expect(can('viewer', 'GET', '/v1/models/:name/versions/:version/report')).toBe(true);
    expect(can('trainer', 'PUT', '/v1/models/:name/aliases/:alias')).toBe(false);
    expect(can('trainer', 'PUT', '/v1/models/:name/gates')).toBe(true);
    expect(can('approver', 'POST', '/v1/api-keys')).toBe(false);
  });
});

describe('API keys', () => {
  it('creates keys shown once and stored only as a hash, lists and revokes them', async () => {
    const created = await stack.api('POST', '/v1/api-keys', { name: 'dave@example.com', roles: ['viewer', 'scorer'] });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^mlc_[0-9a-f]{12}_/);
    const { rows } = await stack.runtime.db.query('select key_hash from api_keys where id = $1', [created.body.id]);
    expect(rows[0].key_hash).toBe(hashKey(created.body.key));
    const dump = JSON.stringify((await stack.runtime.db.query('select * from api_keys')).rows);
    expect(dump).not.toContain(created.body.key);

    const listed = await stack.api('GET', '/v1/api-keys');
    expect(listed.body.keys.find((k: { id: string }) => k.id === created.body.id)).toMatchObject({ name: 'dave@example.com', roles: ['viewer', 'scorer'], revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    expect((await stack.api('POST', '/v1/api-keys', { name: 'x', roles: ['root'] })).status).toBe(400);
    expect((await stack.api('GET', '/v1/api-keys', undefined, { key: keys.viewer })).status).toBe(403);

    expect((await stack.api('GET', '/v1/models', undefined, { key: created.body.key })).status).toBe(200);
    const revoked = await stack.api('DELETE', `/v1/api-keys/${created.body.id}`);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const after = await stack.api('GET', '/v1/models', undefined, { key: created.body.key });
    expect(after.status).toBe(401);
    expect(after.body.error).toContain('revoked');
    expect((await stack.api('GET', '/v1/models', undefined, { key: 'mlc_nope' })).status).toBe(401);
    expect((await stack.api('GET', '/health', undefined, { key: null })).status).not.toBe(401);
  });
});

describe('approver identity', () => {
  it('comes from the key: the starter, a non-approver and someone naming another person are refused', async () => {
    const model = `auth-${Date.now()}`;
    const mv = await registerCandidate({ db: stack.runtime.db, artifacts: stack.runtime.artifacts }, model, [1, 0.5], { startedBy: 'alice@example.com' });
    const handle = await stack.runtime.client.workflow.start(releaseWorkflow, {
      workflowId: releaseWorkflowId(model, mv.version),
      taskQueue: stack.config.taskQueues.orchestration,
      args: [{ modelName: model, version: mv.version, trainingRunId: mv.trainingRunId, startedBy: 'alice@example.com' }],
    });
    await waitFor(() => handle.query(releaseStatusQuery), (s) => s.stage === 'awaiting_approval');
    const alice = await stack.createKey(['approver'], 'alice@example.com');
    const carol = await stack.createKey(['approver'], 'carol@example.com');
    const decide = (key: string, body: Record<string, unknown>) => stack.api('POST', `/v1/approvals/${handle.workflowId}`, { decision: 'approve', reason: 'fine', ...body }, { key });

    const own = await decide(alice, {});
    expect(own.status).toBe(403);
    expect(own.body.error).toContain('started this training run');
    const impersonating = await decide(alice, { approver: 'carol@example.com' });
    expect(impersonating.status).toBe(403);
    expect(impersonating.body.error).toContain('acts as alice@example.com');
    const adminNaming = await decide(keys.admin, { approver: 'carol@example.com' });
    expect(adminNaming.status).toBe(403);
    expect((await decide(keys.scorer, {})).status).toBe(403);
    expect((await decide(keys.trainer, {})).status).toBe(403);

    const ok = await decide(carol, { approver: 'Carol@example.com' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ approver: 'carol@example.com', approved: true, via: 'update' });
    const result = await handle.result();
    expect(result.decision.approver).toBe('carol@example.com');
    // the Temporal-side validator still guards the Update itself
    await expect(handle.executeUpdate(approveUpdate, { args: [{ approver: 'x', reason: 'late' }] })).rejects.toThrow();
  });
});

describe('OpenAPI', () => {
  it('documents 401 and 403 on protected routes, not on public ones', async () => {
    const doc = await stack.api('GET', '/openapi.json', undefined, { key: null });
    expect(doc.status).toBe(200);
    const paths = doc.body.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    expect(Object.keys(paths['/v1/approvals/{workflowId}'].post.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
    expect(Object.keys(paths['/v1/models/{name}/rollback'].post.responses)).toEqual(expect.arrayContaining(['401', '403', '409']));
    expect(Object.keys(paths['/health'].get.responses)).not.toContain('401');
  });
});
