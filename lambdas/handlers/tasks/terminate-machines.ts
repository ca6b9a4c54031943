import { terminateMachines } from '../../domain/workflow/destroy-steps.ts';
import { cleanupFromEnvironment } from '../composition/cleanup.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('terminateMachines', terminateMachines, cleanupFromEnvironment());
