import { type RollbackCreateInput, rollbackCreate } from '../../domain/workflow/rollback-create.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('rollback-create', (input: RollbackCreateInput) =>
  rollbackCreate(input, {
    store: dependency('store'),
    provider: dependency('provider'),
    secrets: dependency('secrets'),
    clock: dependency('clock'),
  }),
);
