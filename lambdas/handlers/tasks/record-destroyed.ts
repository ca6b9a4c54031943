import { type DestroyStepInput, recordDestroyed } from '../../domain/workflow/destroy-steps.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('record-destroyed', (input: DestroyStepInput) =>
  recordDestroyed(input, { store: dependency('store') }),
);
