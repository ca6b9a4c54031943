import type { Plan } from '../../../schemas/types.generated.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { LaunchPreflight } from '../../domain/ports.ts';

/**
 * What the local provider cannot do, refused before anything is recorded
 * or launched: it runs the roles' processes, not notebooks.
 */
export class LocalPreflight implements LaunchPreflight {
  async check(plan: Plan): Promise<void> {
    if (plan.roles.some((role) => role.role === 'notebook')) {
      throw new ValidationError(
        'profile.notebook: the local provider does not run notebooks; remove the notebook section, or create the cluster on EC2',
        { field: 'profile.notebook' },
      );
    }
  }
}
