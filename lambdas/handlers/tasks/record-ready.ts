import { type RecordReadyInput, recordReady } from '../../domain/workflow/record-ready.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('record-ready', (input: RecordReadyInput) =>
  recordReady(input, { store: dependency('store'), clock: dependency('clock') }),
);
