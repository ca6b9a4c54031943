import { afterEach, describe, expect, it } from 'vitest';
import { mockSsm, type SsmMock } from '../../../support/ssm-mock.ts';
import { instance, runnerOver } from './fixtures.ts';

describe('SsmRemoteCommands.reachable', () => {
  let ssm: SsmMock;
  afterEach(() => ssm.restore());

  it('names the instances whose agent is registered and online, 50 ids per call', async () => {
    const instances = Array.from({ length: 120 }, (_, n) => instance(n));
    ssm = mockSsm({ unmanaged: [instances[7]!.id] });
    ssm.state.registersAfter(instances[99]!.id, 1);

    const first = await runnerOver(ssm).reachable(instances);
    const second = await runnerOver(ssm).reachable(instances);

    expect(
      ssm.inputsOf('DescribeInstanceInformation').map((input) => input.Filters?.[0]?.Values?.length),
    ).toEqual([50, 50, 20, 50, 50, 20]);
    expect(first).toHaveLength(118);
    expect(first).not.toContain(instances[7]!.id);
    expect(first).not.toContain(instances[99]!.id);
    expect(second).toContain(instances[99]!.id);
    expect(second).not.toContain(instances[7]!.id);
  });
});
