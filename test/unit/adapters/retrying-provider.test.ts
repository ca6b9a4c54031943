import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, RetryingMachineProvider } from '../../../lambdas/adapters/retrying-provider.ts';
import {
  MachinesNotNamedError,
  ProviderBusyError,
  ProvisioningError,
  ValidationError,
} from '../../../lambdas/domain/errors.ts';
import { type Ec2Mock, ec2Errors, mockEc2 } from '../../support/ec2-mock.ts';
import { FakeMachineProvider } from '../../support/fake-provider.ts';
import { providerOver, workerLaunch } from './ec2/launch-fixtures.ts';

const busy = () => new ProviderBusyError('Request limit exceeded.');
const noWait = { minTimeout: 0, maxTimeout: 0 };

describe('RetryingMachineProvider over EC2', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('retries a throttled launch with the same client token, and EC2 answers the first launch’s instances', async () => {
    ec2 = mockEc2();
    // The first call launches, but its answer is lost to throttling.
    ec2.fail({ command: 'RunInstances', error: ec2Errors.throttled(), afterEffect: true });
    const provider = new RetryingMachineProvider(providerOver(ec2), noWait);

    const machines = await provider.launch(workerLaunch({ count: 3 }));

    const tokens = ec2.inputsOf('RunInstances').map((input) => input.ClientToken);
    expect(tokens).toEqual([workerLaunch().idempotencyToken, workerLaunch().idempotencyToken]);
    expect(ec2.state.launches).toBe(1);
    expect(ec2.state.all().map((instance) => instance.InstanceId)).toEqual(machines.map((m) => m.id));
    expect(machines).toHaveLength(3);
  });

  it('does not retry a launch EC2 has no capacity for', async () => {
    ec2 = mockEc2({ faults: [{ command: 'RunInstances', error: ec2Errors.insufficientCapacity() }] });
    const provider = new RetryingMachineProvider(providerOver(ec2), noWait);

    await expect(provider.launch(workerLaunch())).rejects.toThrow(ProvisioningError);
    expect(ec2.callsOf('RunInstances')).toBe(1);
  });
});

describe('RetryingMachineProvider', () => {
  it('goes by the wrapped provider’s name', () => {
    expect(new RetryingMachineProvider(new FakeMachineProvider()).name).toBe('fake');
  });

  it('retries a busy provider until it answers', async () => {
    const inner = new FakeMachineProvider();
    const [machine] = await inner.launch(workerLaunch({ count: 1 }));
    inner.failOn('describe', busy()).failOn('describe', busy(), { call: 2 });

    const described = await new RetryingMachineProvider(inner, noWait).describe([machine!.id]);

    expect(described.map((m) => m.id)).toEqual([machine!.id]);
    expect(inner.callsOf('describe')).toBe(3);
  });

  it('gives up after the configured retries with the last busy error', async () => {
    const inner = new FakeMachineProvider();
    for (let call = 1; call <= 4; call++) inner.failOn('terminate', busy(), { call });

    const terminate = new RetryingMachineProvider(inner, { ...noWait, retries: 2 }).terminate(['i-1']);

    await expect(terminate).rejects.toThrow(ProviderBusyError);
    expect(inner.callsOf('terminate')).toBe(3);
  });

  it('passes any other error on at once, as it is', async () => {
    const inner = new FakeMachineProvider();
    const invalid = new ValidationError('instance.ami: no machine image', { field: 'instance.ami' });
    inner.failOn('launch', invalid);

    const launch = new RetryingMachineProvider(inner, noWait).launch(workerLaunch());

    await expect(launch).rejects.toBe(invalid);
    expect(inner.callsOf('launch')).toBe(1);
  });

  it('waits a full-jitter exponential backoff between attempts, capped at the largest wait', async () => {
    const inner = new FakeMachineProvider();
    for (let call = 1; call <= 5; call++) inner.failOn('findByCluster', busy(), { call });
    const waits: number[] = [];
    const retries: string[] = [];
    const provider = new RetryingMachineProvider(inner, {
      random: () => 0.5,
      maxTimeout: 1_000,
      sleep: async (ms) => {
        waits.push(ms);
      },
      onRetry: ({ method, attempt }) => retries.push(`${method}#${attempt}`),
    });

    await provider.findByCluster('c-1');

    expect(waits).toEqual([100, 200, 400, 500, 500]);
    expect(retries).toEqual([1, 2, 3, 4, 5].map((attempt) => `findByCluster#${attempt}`));
  });
});

describe('RetryingMachineProvider.nameMachines', () => {
  const names = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ id: `i-${i}`, name: `n-${i}` }));

  /** A provider whose every name waits for the test to let it through. */
  function gatedNamer() {
    const inner = new FakeMachineProvider();
    const waiting: Array<() => void> = [];
    let inFlight = 0;
    let most = 0;
    const named: string[] = [];
    Object.assign(inner, {
      nameMachines: async (batch: readonly { id: string; name: string }[]) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise<void>((resolve) => waiting.push(resolve));
        inFlight--;
        named.push(...batch.map((one) => one.name));
      },
    });
    const releaseAll = async () => {
      while (named.length < 10) {
        for (const release of waiting.splice(0)) release();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    return { inner, named, releaseAll, most: () => most };
  }

  it('asks for one name per call, never more than the concurrency at once', async () => {
    const { inner, named, releaseAll, most } = gatedNamer();
    const provider = new RetryingMachineProvider(inner, { ...noWait, naming: { concurrency: 3 } });

    const naming = provider.nameMachines(names(10));
    await releaseAll();
    await naming;

    expect(named).toHaveLength(10);
    expect(new Set(named)).toEqual(new Set(names(10).map((one) => one.name)));
    expect(most()).toBe(3);
  });

  it('starts no new name once the budget is spent, and says how many were named', async () => {
    const inner = new FakeMachineProvider();
    let clock = 0;
    const named: string[] = [];
    Object.assign(inner, {
      nameMachines: async (batch: readonly { name: string }[]) => {
        clock += 1_000;
        named.push(...batch.map((one) => one.name));
      },
    });
    const provider = new RetryingMachineProvider(inner, {
      ...noWait,
      naming: { concurrency: 1, budgetMs: 3_000, now: () => clock },
    });

    const naming = provider.nameMachines(names(10));

    await expect(naming).rejects.toThrow(MachinesNotNamedError);
    await expect(naming).rejects.toThrow('named 3 of 10 machines, then stopped: naming took longer than 3 s');
    expect(named).toEqual(['n-0', 'n-1', 'n-2']);
  });

  it('does not retry a name the provider refuses for good, and names nothing after it', async () => {
    const inner = new FakeMachineProvider();
    const denied = new ProvisioningError('bilbo may not call ec2:CreateTags');
    let calls = 0;
    Object.assign(inner, {
      nameMachines: async () => {
        calls++;
        throw denied;
      },
    });

    const naming = new RetryingMachineProvider(inner, { ...noWait, naming: { concurrency: 1 } }).nameMachines(
      names(5),
    );

    await expect(naming).rejects.toMatchObject({ named: 0, total: 5, cause: denied });
    expect(calls).toBe(1);
  });

  it('does nothing for a provider whose machines have no names', async () => {
    await expect(new RetryingMachineProvider(new FakeMachineProvider()).nameMachines(names(3))).resolves.toBe(
      undefined,
    );
  });
});

describe('backoffDelay', () => {
  const settings = { minTimeout: 200, maxTimeout: 5_000, factor: 2 };

  it('is anywhere from no wait to the attempt’s ceiling', () => {
    expect(backoffDelay(1, { ...settings, random: () => 0 })).toBe(0);
    expect(backoffDelay(1, { ...settings, random: () => 0.999_999 })).toBe(199);
    expect(backoffDelay(4, { ...settings, random: () => 0.999_999 })).toBe(1_599);
  });

  it('never exceeds the largest wait', () => {
    expect(backoffDelay(30, { ...settings, random: () => 0.999_999 })).toBe(4_999);
  });
});
