import type { Plan } from '../../schemas/types.generated.ts';

/**
 * What a stopped cluster still costs: its machines' root volumes, as the
 * plan sizes them (`vol_size`; without it, the image's own root size),
 * `3 × 40 GiB`, or `1 × 40 GiB + 2 × 100 GiB = 240 GiB`.
 */
export function describeVolumes(plan: Pick<Plan, 'roles'>): string {
  const bySize = new Map<number | undefined, number>();
  for (const role of plan.roles) {
    if (role.count === 0) continue;
    const size = role.instance.vol_size;
    bySize.set(size, (bySize.get(size) ?? 0) + role.count);
  }
  if (bySize.size === 0) return 'none';
  const parts = [...bySize].map(([size, count]) =>
    size === undefined ? `${count} × the image's root size` : `${count} × ${size} GiB`,
  );
  const known = [...bySize].every(([size]) => size !== undefined);
  const total = [...bySize].reduce((sum, [size, count]) => sum + (size ?? 0) * count, 0);
  return parts.length > 1 && known ? `${parts.join(' + ')} = ${total} GiB` : parts.join(' + ');
}
