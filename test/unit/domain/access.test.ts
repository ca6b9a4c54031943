import { describe, expect, it } from 'vitest';
import { assertMayChange, identityOf, isAdmin, requestedBy } from '../../../lambdas/domain/access.ts';
import { NotOwnerError } from '../../../lambdas/domain/errors.ts';
import type { Cluster } from '../../../schemas/types.generated.ts';

const ROLE = 'arn:aws:iam::123456789012:role/data-team';

describe('identityOf', () => {
  it('takes an assumed-role session for its role', () => {
    expect(identityOf('arn:aws:sts::123456789012:assumed-role/data-team/alice@example.com')).toBe(ROLE);
  });

  it('drops a role’s path, which session ARNs do not carry', () => {
    expect(identityOf('arn:aws:iam::123456789012:role/teams/data/data-team')).toBe(ROLE);
  });

  it('keeps users, other partitions and local principals as they are', () => {
    expect(identityOf('arn:aws:iam::123456789012:user/alice')).toBe('arn:aws:iam::123456789012:user/alice');
    expect(identityOf('arn:aws-cn:sts::123456789012:assumed-role/r/s')).toBe(
      'arn:aws-cn:iam::123456789012:role/r',
    );
    expect(identityOf('local:alice')).toBe('local:alice');
  });

  it('never takes another account’s role of the same name for this one', () => {
    expect(identityOf('arn:aws:sts::210987654321:assumed-role/data-team/x')).not.toBe(ROLE);
  });
});

describe('assertMayChange', () => {
  const cluster = { name: 'analytics', owner: ROLE } as Cluster;
  const policy = { admins: ['arn:aws:iam::123456789012:role/ops/admins'] };

  it('lets the owner (any session of the owning role), an admin and the control plane itself', () => {
    expect(() =>
      assertMayChange(
        cluster,
        { principal: 'arn:aws:sts::123456789012:assumed-role/data-team/bob' },
        'destroy',
        policy,
      ),
    ).not.toThrow();
    expect(() =>
      assertMayChange(
        cluster,
        { principal: 'arn:aws:sts::123456789012:assumed-role/admins/carol' },
        'destroy',
        policy,
      ),
    ).not.toThrow();
    expect(() =>
      assertMayChange(cluster, { system: 'bilbo local', reason: 'stopped' }, 'destroy', policy),
    ).not.toThrow();
  });

  it('refuses anyone else, naming the owner', () => {
    const other = { principal: 'arn:aws:iam::123456789012:user/mallory' };
    expect(() => assertMayChange(cluster, other, 'destroy', policy)).toThrow(NotOwnerError);
    expect(() => assertMayChange(cluster, other, 'destroy', policy)).toThrow(
      `(${ROLE}) or an admin may destroy it`,
    );
    expect(isAdmin(other.principal, policy)).toBe(false);
  });

  it('names who asked in the event', () => {
    expect(requestedBy({ principal: 'local:alice' }, 'destroy')).toBe('destroy requested by local:alice');
    expect(requestedBy({ system: 'bilbo local', reason: 'bilbo local stopped' }, 'destroy')).toBe(
      'bilbo local stopped: destroy (bilbo local)',
    );
  });
});
