import { describe, expect, it } from 'vitest';
import { daskKind } from '../../../../../lambdas/domain/kinds/dask/index.ts';
import type { RoleName, RolePlan } from '../../../../../schemas/types.generated.ts';

const planOf = (...roles: RoleName[]) => ({ roles: roles.map((role) => ({ role }) as RolePlan) });

describe('the Dask restart', () => {
  it('restarts the scheduler, then the workers, never the notebook', () => {
    expect(daskKind.restartRoles(planOf('notebook', 'worker', 'scheduler') as never)).toEqual([
      'scheduler',
      'worker',
    ]);
  });

  it('has nothing to restart in a cluster of a notebook alone', () => {
    expect(daskKind.restartRoles(planOf('notebook') as never)).toEqual([]);
  });

  it("names each role's systemd unit, as its user-data writes it", () => {
    expect(daskKind.serviceUnits('scheduler')).toEqual(['bilbo-scheduler.service']);
    expect(daskKind.serviceUnits('worker')).toEqual(['bilbo-worker.service']);
  });
});
