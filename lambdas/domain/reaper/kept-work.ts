/**
 * What the reaper never terminates on its own: a notebook's machine of a
 * cluster it cannot check for unsaved work (its cluster FAILED, or the
 * machine stopped). Such a notebook is stopped instead, which costs only
 * its volumes, and stays until someone destroys its cluster: the work in
 * it is never the price of a cleanup.
 */
import type { RoleName } from '../../../schemas/types.generated.ts';
import type { MachineState } from '../ports.ts';

/** The role whose machine holds people's work (its workdir, its repositories). */
const WORK_ROLE: RoleName = 'notebook';

export function holdsWork(machine: { role: RoleName }): boolean {
  return machine.role === WORK_ROLE;
}

/** A notebook machine that is stopped, or stopping: kept as it is. */
export function isStoppedWork(machine: { role: RoleName; state: MachineState }): boolean {
  return holdsWork(machine) && (machine.state === 'stopped' || machine.state === 'stopping');
}

const WHY = 'since it may hold unsaved work; destroy the cluster to remove it';

/** A cleanup's note of the stopped notebooks it left. */
export function keptWorkText(ids: readonly string[]): string {
  return `its notebook ${ids.join(', ')} is kept stopped with its volumes, ${WHY}`;
}

/** The orphan pass's reason for stopping a FAILED cluster's running notebook. */
export function stoppedWorkText(orphanReason: string): string {
  return `${orphanReason}: stopped, not terminated, ${WHY}`;
}
