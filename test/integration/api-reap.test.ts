/**
 * `bilbo reap` through the API: POST /reap starts the sweep workflow for
 * an admin and answers its id; GET /reap/{id} answers how it goes, and its
 * report once it ended.
 */
import { describe, expect, it } from 'vitest';
import type { ApiError, Sweep } from '../../schemas/types.generated.ts';
import { assertValid, schemaIds } from '../../schemas/validate.ts';
import { ADMIN_SESSION_ARN, ALICE_ARN } from '../support/api-events.ts';
import { useApiHarness } from '../support/api-harness.ts';
import { aSweepReport } from '../support/sweep-reports.ts';

const api = useApiHarness();
const { call } = api;
const admin = { caller: ADMIN_SESSION_ARN };

const REPORT = aSweepReport({ checked: 1, durationMs: 420 });

describe('POST /reap', () => {
  it('starts the sweep workflow for an admin, named by the sweep id it answers, 202 RUNNING', async () => {
    const answer = await call<Sweep>('POST', '/reap', admin);

    expect(answer.status).toBe(202);
    expect(() => assertValid(schemaIds.sweep, answer.body, 'sweep')).not.toThrow();
    expect(answer.body).toEqual({ id: expect.stringMatching(/^sweep-[0-9a-f]{16}$/), status: 'RUNNING' });
    expect(api.workflows.started).toEqual([
      {
        workflow: 'sweep',
        executionName: answer.body.id,
        input: { dryRun: false, requestedBy: ADMIN_SESSION_ARN },
      },
    ]);
  });

  it('starts a dry run with dryRun=true, and a new sweep each time', async () => {
    const first = await call<Sweep>('POST', '/reap', { ...admin, query: { dryRun: 'true' } });
    const second = await call<Sweep>('POST', '/reap', { ...admin, query: { dryRun: 'false' } });

    expect(api.workflows.started.map((started) => started.input)).toEqual([
      { dryRun: true, requestedBy: ADMIN_SESSION_ARN },
      { dryRun: false, requestedBy: ADMIN_SESSION_ARN },
    ]);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('answers 403 NOT_ADMIN to anyone else, and starts nothing', async () => {
    const answer = await call<ApiError>('POST', '/reap', { caller: ALICE_ARN });

    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('NOT_ADMIN');
    expect(api.workflows.started).toEqual([]);
  });

  it('answers 400 naming dryRun when it is neither true nor false', async () => {
    const answer = await call<ApiError>('POST', '/reap', { ...admin, query: { dryRun: 'yes' } });

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'dryRun' });
  });
});

describe('GET /reap/{id}', () => {
  it('answers RUNNING while the sweep runs', async () => {
    const { body: started } = await call<Sweep>('POST', '/reap', admin);

    const answer = await call<Sweep>('GET', `/reap/${started.id}`, admin);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ id: started.id, status: 'RUNNING' });
  });

  it('answers the report once the sweep succeeded', async () => {
    const { body: started } = await call<Sweep>('POST', '/reap', admin);
    api.workflows.executions.set(started.id, { status: 'SUCCEEDED', output: REPORT });

    const answer = await call<Sweep>('GET', `/reap/${started.id}`, admin);

    expect(() => assertValid(schemaIds.sweep, answer.body, 'sweep')).not.toThrow();
    expect(answer.body).toEqual({ id: started.id, status: 'SUCCEEDED', report: REPORT });
  });

  it('answers why, with no report, once the sweep failed', async () => {
    const { body: started } = await call<Sweep>('POST', '/reap', admin);
    api.workflows.executions.set(started.id, { status: 'TIMED_OUT', error: 'States.Timeout' });

    const answer = await call<Sweep>('GET', `/reap/${started.id}`, admin);

    expect(answer.body).toEqual({ id: started.id, status: 'TIMED_OUT', error: 'States.Timeout' });
  });

  it('answers 404 SWEEP_NOT_FOUND for a sweep id nobody started', async () => {
    const answer = await call<ApiError>('GET', '/reap/sweep-00000000000000ff', admin);

    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('SWEEP_NOT_FOUND');
  });

  it('answers 400 naming the id when it is not a sweep id', async () => {
    const answer = await call<ApiError>('GET', '/reap/c-0000000000000001-destroy-v2', admin);

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id' });
    expect(answer.body.message).toMatch(/^id: must be a sweep id such as sweep-0190f3a2b4c5d6e7/);
  });

  it('answers 403 NOT_ADMIN to anyone else', async () => {
    const { body: started } = await call<Sweep>('POST', '/reap', admin);

    const answer = await call<ApiError>('GET', `/reap/${started.id}`, { caller: ALICE_ARN });

    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('NOT_ADMIN');
  });
});
