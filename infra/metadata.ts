/**
 * CloudFormation metadata bilbo writes on its resources so tools can read a
 * synthesized template without knowing logical ids (the local workflow
 * runner maps state machines and functions back to code through these).
 */

/** On each Lambda function: its handler module, relative to the repository root. */
export const ENTRY_METADATA_KEY = 'bilbo:entry';

/** On each task function: its task name in the step registry (lambdas/handlers/tasks/steps.ts). */
export const TASK_METADATA_KEY = 'bilbo:task';

/** On each state machine: which workflow of the registry (lambdas/domain/workflows.ts) it runs. */
export const WORKFLOW_METADATA_KEY = 'bilbo:workflow';
