import { describe, expect, it } from 'vitest';
import { mergeTags, resolveRoleInstance } from '../../../../lambdas/domain/profile/resolve.ts';

describe('resolveRoleInstance', () => {
  it('overlays the role instance on the common one, field by field', () => {
    const resolved = resolveRoleInstance(
      { ami: 'ami-1', ec2type: 't3.medium', keyname: 'k', vol_size: 8 },
      { ec2type: 'm5.xlarge', vol_size: 100 },
    );
    expect(resolved).toEqual({
      ami: 'ami-1',
      ec2type: 'm5.xlarge',
      keyname: 'k',
      vol_size: 100,
      tags: [],
      init_cmd: [],
    });
  });

  it('gives empty tags and init_cmd and no other fields when both are missing', () => {
    expect(resolveRoleInstance(undefined, undefined)).toEqual({ tags: [], init_cmd: [] });
  });

  it('leaves ec2type out when neither gives one', () => {
    expect(resolveRoleInstance({ ami: 'ami-1' }, {})).not.toHaveProperty('ec2type');
  });

  it('merges tags by key: common order first, role values in place, new keys appended', () => {
    const resolved = resolveRoleInstance(
      {
        tags: [
          ['team', 'data'],
          ['env', 'dev'],
          ['cost', '1'],
        ],
      },
      {
        tags: [
          ['new', 'x'],
          ['env', 'prod'],
        ],
      },
    );
    expect(resolved.tags).toEqual([
      ['team', 'data'],
      ['env', 'prod'],
      ['cost', '1'],
      ['new', 'x'],
    ]);
  });

  it('keeps tag keys and values byte for byte', () => {
    const resolved = resolveRoleInstance({ tags: [[' Key ', ' Value ']] }, { tags: [['key', 'other']] });
    expect(resolved.tags).toEqual([
      [' Key ', ' Value '],
      ['key', 'other'],
    ]);
  });

  it("replaces the common init_cmd with the role's when the role gives one", () => {
    expect(resolveRoleInstance({ init_cmd: ['a', 'b'] }, { init_cmd: ['c'] }).init_cmd).toEqual(['c']);
    expect(resolveRoleInstance({ init_cmd: ['a', 'b'] }, {}).init_cmd).toEqual(['a', 'b']);
    expect(resolveRoleInstance({ init_cmd: ['a'] }, { init_cmd: [] }).init_cmd).toEqual([]);
  });

  it('shares no list with its inputs', () => {
    const common = { tags: [['a', 'b']] as [string, string][], init_cmd: ['x'] };
    const resolved = resolveRoleInstance(common, undefined);
    resolved.tags.push(['c', 'd']);
    resolved.init_cmd.push('y');
    expect(common).toEqual({ tags: [['a', 'b']], init_cmd: ['x'] });
  });
});

describe('mergeTags', () => {
  it('keeps the last value of a key repeated in one list, at its first place', () => {
    expect(
      mergeTags(
        [
          ['a', '1'],
          ['b', '2'],
          ['a', '3'],
        ],
        [],
      ),
    ).toEqual([
      ['a', '3'],
      ['b', '2'],
    ]);
  });
});
