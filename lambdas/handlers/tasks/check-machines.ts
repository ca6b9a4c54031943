import { type CheckMachinesInput, checkMachines } from '../../domain/workflow/check-machines.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('check-machines', (input: CheckMachinesInput) =>
  checkMachines(input, { store: dependency('store'), provider: dependency('provider') }),
);
