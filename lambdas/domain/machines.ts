import type { Machine } from './ports.ts';

/**
 * What a provider answers for an id it has no trace of: terminated, as the
 * MachineProvider contract says, and marked unseen (see Machine.unseen).
 * The Machine fields a provider cannot know are left empty.
 */
export function unseenMachine(id: string, stateReason: string): Machine {
  return {
    id,
    clusterId: '',
    role: 'worker',
    index: 0,
    state: 'terminated',
    privateIp: '',
    stateReason,
    unseen: true,
  };
}
