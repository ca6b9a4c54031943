import { type DestroyStepInput, terminateMachines } from '../../domain/workflow/destroy-steps.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('terminate-machines', (input: DestroyStepInput) =>
  terminateMachines(input, {
    store: dependency('store'),
    provider: dependency('provider'),
    secrets: dependency('secrets'),
    clock: dependency('clock'),
  }),
);
