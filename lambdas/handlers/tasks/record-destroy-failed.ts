import { type RecordDestroyFailedInput, recordDestroyFailed } from '../../domain/workflow/destroy-steps.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('record-destroy-failed', (input: RecordDestroyFailedInput) =>
  recordDestroyFailed(input, { store: dependency('store') }),
);
