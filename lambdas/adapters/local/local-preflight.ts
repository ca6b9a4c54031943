import type { Plan } from '../../../schemas/types.generated.ts';
import { ProvisioningError } from '../../domain/errors.ts';
import { kindOf } from '../../domain/kinds/index.ts';
import type { LaunchPreflight } from '../../domain/ports.ts';
import { canImport } from './python-runtime.ts';

/**
 * What this machine cannot run, refused before anything is recorded or
 * launched: a role whose Python module (a notebook's server) the
 * interpreter the plane found cannot import.
 */
export class LocalPreflight implements LaunchPreflight {
  /** Modules found, by interpreter: an import costs a second, and an install does not go away. */
  private readonly found = new Set<string>();

  constructor(private readonly programs: Readonly<Record<string, string>>) {}

  async check(plan: Plan): Promise<void> {
    const runtime = kindOf(plan.kind).localRuntime;
    const python = this.programs[runtime.program];
    for (const { role } of plan.roles) {
      const needed = runtime.roleModules[role];
      if (!needed || (python !== undefined && (await this.imports(python, needed.module)))) continue;
      throw new ProvisioningError(
        `The ${role} needs Python's ${needed.module} on this machine, and ${python ?? 'no python'} cannot import it: ` +
          `install it (${needed.install}) or set BILBO_PYTHON to a python that has it, or create the cluster on EC2.`,
      );
    }
  }

  private async imports(python: string, module: string): Promise<boolean> {
    const key = `${python}\0${module}`;
    if (this.found.has(key)) return true;
    const yes = await canImport(python, module);
    if (yes) this.found.add(key);
    return yes;
  }
}
