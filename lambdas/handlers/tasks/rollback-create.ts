import { rollbackCreate } from '../../domain/workflow/rollback-create.ts';
import { cleanupFromEnvironment } from '../composition/cleanup.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('rollbackCreate', rollbackCreate, cleanupFromEnvironment());
