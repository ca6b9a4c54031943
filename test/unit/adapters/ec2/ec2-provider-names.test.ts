/**
 * Per-index instance names on EC2: one RunInstances per role gives all its
 * instances the same tags, so each is then renamed with its own index by a
 * CreateTags call of its own — a few at a time, retried while EC2 throttles,
 * and stopped early when EC2 keeps refusing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RetryingMachineProvider } from '../../../../lambdas/adapters/retrying-provider.ts';
import {
  MachinesNotNamedError,
  ProviderBusyError,
  ProvisioningError,
} from '../../../../lambdas/domain/errors.ts';
import { machineName } from '../../../../lambdas/domain/machines.ts';
import type { Machine } from '../../../../lambdas/domain/ports.ts';
import { type Ec2Mock, ec2Errors, mockEc2 } from '../../../support/ec2-mock.ts';
import { providerOver, workerLaunch } from './launch-fixtures.ts';

const noWait = { minTimeout: 0, maxTimeout: 0 };
const PARTS = { instancePrefix: 'bilbo-', clusterName: 'analytics', role: 'worker' } as const;

const nameOf = (ec2: Ec2Mock, id: string) =>
  ec2.state.instance(id).Tags?.find((tag) => tag.Key === 'Name')?.Value;
const indexedNames = (machines: readonly Machine[]) =>
  machines.map((machine) => ({ id: machine.id, name: machineName(PARTS, machine.index) }));

describe('Ec2MachineProvider.nameMachines', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('renames each instance with its own index, one CreateTags call each, touching no other tag', async () => {
    ec2 = mockEc2();
    const provider = providerOver(ec2);
    const machines = await provider.launch(workerLaunch({ count: 3 }));
    const before = ec2.state.all().map((instance) => instance.Tags?.filter((tag) => tag.Key !== 'Name'));

    await provider.nameMachines(indexedNames(machines));

    expect(machines.map((machine) => nameOf(ec2, machine.id))).toEqual([
      'bilbo-analytics-worker-0',
      'bilbo-analytics-worker-1',
      'bilbo-analytics-worker-2',
    ]);
    expect(ec2.inputsOf('CreateTags')).toEqual(
      machines.map((machine, i) => ({
        Resources: [machine.id],
        Tags: [{ Key: 'Name', Value: `bilbo-analytics-worker-${i}` }],
      })),
    );
    expect(ec2.state.all().map((instance) => instance.Tags?.filter((tag) => tag.Key !== 'Name'))).toEqual(
      before,
    );
  });

  it('launches a many-instance role under the role’s name, with no index, until each is renamed', async () => {
    ec2 = mockEc2();

    const machines = await providerOver(ec2).launch(workerLaunch({ count: 3 }));

    expect(machines.map((machine) => nameOf(ec2, machine.id))).toEqual(
      Array(3).fill('bilbo-analytics-worker'),
    );
  });

  it('launches a single instance under its full name: no CreateTags needed', async () => {
    ec2 = mockEc2();

    const [machine] = await providerOver(ec2).launch(
      workerLaunch({ role: 'notebook', count: 1, idempotencyToken: 'c-1-notebook' }),
    );

    expect(nameOf(ec2, machine!.id)).toBe('bilbo-analytics-notebook-0');
  });

  it('reports an instance EC2 does not list yet, and throttling, as a busy provider, to be retried', async () => {
    ec2 = mockEc2({ unseenDescribes: 1 });
    const provider = providerOver(ec2);
    const [machine] = await provider.launch(workerLaunch({ count: 2 }));
    const rename = [{ id: machine!.id, name: 'bilbo-analytics-worker-0' }];

    await expect(provider.nameMachines(rename)).rejects.toThrow(ProviderBusyError);
    ec2.fail({ command: 'CreateTags', error: ec2Errors.throttled() });
    await expect(provider.nameMachines(rename)).rejects.toThrow(ProviderBusyError);
    await provider.nameMachines(rename);
    expect(nameOf(ec2, machine!.id)).toBe('bilbo-analytics-worker-0');
  });

  it('names the missing permission when IAM refuses', async () => {
    ec2 = mockEc2();
    const provider = providerOver(ec2);
    const [machine] = await provider.launch(workerLaunch({ count: 2 }));
    ec2.fail({ command: 'CreateTags', error: ec2Errors.unauthorized('ec2:CreateTags') });

    const naming = provider.nameMachines([{ id: machine!.id, name: 'x' }]);

    await expect(naming).rejects.toThrow(ProvisioningError);
    await expect(naming).rejects.toThrow(/ec2:CreateTags/);
  });
});

describe('RetryingMachineProvider.nameMachines over EC2', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('names 1,000 workers each with its own index, one call per worker, through injected throttling', async () => {
    ec2 = mockEc2();
    const provider = new RetryingMachineProvider(providerOver(ec2), noWait);
    const machines = await provider.launch(workerLaunch({ count: 1_000 }));
    // EC2 throttles a burst of calls in the middle of the run.
    ec2.fail({ command: 'CreateTags', call: 200, times: 3, error: ec2Errors.throttled() });

    await provider.nameMachines(indexedNames(machines));

    expect(ec2.callsOf('CreateTags')).toBe(1_003);
    const names = machines.map((machine) => nameOf(ec2, machine.id));
    expect(names.slice(0, 2)).toEqual(['bilbo-analytics-worker-0', 'bilbo-analytics-worker-1']);
    expect(names.at(-1)).toBe('bilbo-analytics-worker-999');
    expect(new Set(names).size).toBe(1_000);
    expect(machines.every((machine) => nameOf(ec2, machine.id)?.endsWith(`-${machine.index}`))).toBe(true);
  });

  it('waits for instances EC2 does not list yet right after the launch', async () => {
    ec2 = mockEc2({ unseenDescribes: 2 });
    const provider = new RetryingMachineProvider(providerOver(ec2), noWait);
    const machines = await provider.launch(workerLaunch({ count: 3 }));

    await provider.nameMachines(indexedNames(machines));

    expect(machines.map((machine) => nameOf(ec2, machine.id))).toEqual([
      'bilbo-analytics-worker-0',
      'bilbo-analytics-worker-1',
      'bilbo-analytics-worker-2',
    ]);
  });

  it('stops asking when EC2 keeps throttling, instead of spending a call on every instance', async () => {
    ec2 = mockEc2();
    const provider = new RetryingMachineProvider(providerOver(ec2), { ...noWait, retries: 2 });
    const machines = await provider.launch(workerLaunch({ count: 1_000 }));
    ec2.fail({ command: 'CreateTags', times: 10_000, error: ec2Errors.throttled() });

    const naming = provider.nameMachines(indexedNames(machines));

    await expect(naming).rejects.toThrow(MachinesNotNamedError);
    await expect(naming).rejects.toThrow(/^named 0 of 1000 machines, then stopped: EC2 CreateTags is busy/);
    // At most the few names under way, each with its retries.
    expect(ec2.callsOf('CreateTags')).toBeLessThanOrEqual(4 * 3);
    expect(machines.map((machine) => nameOf(ec2, machine.id))).toEqual(
      Array(1_000).fill('bilbo-analytics-worker'),
    );
  });
});
