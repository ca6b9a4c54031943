/**
 * Reads the state machines back out of a synthesized template, as plain
 * Amazon States Language an ASL interpreter can run: CloudFormation
 * intrinsics become fixed values, and each Lambda ARN becomes a placeholder
 * that maps to the function's task (its `bilbo:task` metadata). No CDK here:
 * local mode reads the generated definitions (infra/generated) with it.
 */
import { isWorkflowName, WORKFLOW_NAMES, type WorkflowName } from '../lambdas/domain/workflows.ts';
import { TASK_NAMES, type TaskName } from '../lambdas/handlers/tasks/task-names.ts';
import { TASK_METADATA_KEY, WORKFLOW_METADATA_KEY } from './metadata.ts';

export interface AslState {
  Type: string;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: AslDefinition;
  Iterator?: AslDefinition;
  Branches?: AslDefinition[];
  [field: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

export interface ExtractedWorkflow {
  definition: AslDefinition;
  /** Placeholder FunctionName ARN used in the definition → the task whose function it stands for. */
  tasks: Record<string, TaskName>;
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The ARN that stands for the function with this logical id in an extracted definition. */
export function placeholderFunctionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
}

/** Every registered workflow's state machine in a synthesized bilbo template (found by its `bilbo:workflow` metadata). */
export function extractWorkflows(template: object): Record<WorkflowName, ExtractedWorkflow> {
  const resources = (template as { Resources?: Record<string, TemplateResource> }).Resources ?? {};
  const found: Partial<Record<WorkflowName, ExtractedWorkflow>> = {};
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const workflow = resource.Metadata?.[WORKFLOW_METADATA_KEY];
    if (!isWorkflowName(workflow)) continue;
    if (found[workflow])
      throw new Error(`the template has two ${workflow} workflows (the second is ${logicalId})`);
    found[workflow] = extractOne(logicalId, resource, resources);
  }
  const missing = WORKFLOW_NAMES.find((name) => !found[name]);
  if (missing) {
    throw new Error(`the template lacks the ${missing} workflow (no ${WORKFLOW_METADATA_KEY} metadata)`);
  }
  return found as Record<WorkflowName, ExtractedWorkflow>;
}

/** Every state of a definition with its name, including those inside Map and Parallel states. */
export function allStates(definition: AslDefinition): Array<[string, AslState]> {
  return Object.entries(definition.States).flatMap(([name, state]): Array<[string, AslState]> => {
    const nested = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter(
      (inner): inner is AslDefinition => inner !== undefined,
    );
    return [[name, state], ...nested.flatMap(allStates)];
  });
}

function extractOne(
  logicalId: string,
  resource: TemplateResource,
  resources: Record<string, TemplateResource>,
): ExtractedWorkflow {
  const tasks: Record<string, TaskName> = {};
  const functionArn = (target: string): string => {
    const fn = resources[target];
    if (fn?.Type !== 'AWS::Lambda::Function') {
      throw new Error(`state machine ${logicalId} refers to ${target}, which is not a Lambda function`);
    }
    const task = fn.Metadata?.[TASK_METADATA_KEY];
    if (!(TASK_NAMES as readonly unknown[]).includes(task)) {
      throw new Error(`function ${target} has no ${TASK_METADATA_KEY} metadata naming a task`);
    }
    const arn = placeholderFunctionArn(target);
    tasks[arn] = task as TaskName;
    return arn;
  };
  const text = resolve(resource.Properties?.DefinitionString, functionArn, logicalId);
  return { definition: JSON.parse(text) as AslDefinition, tasks };
}

function resolve(value: unknown, functionArn: (logicalId: string) => string, where: string): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [intrinsic, argument] = Object.entries(value)[0] ?? [];
    if (intrinsic === 'Fn::Join' && Array.isArray(argument)) {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((part) => resolve(part, functionArn, where)).join(separator);
    }
    if (intrinsic === 'Ref' && typeof argument === 'string' && argument in PSEUDO_PARAMETERS) {
      return PSEUDO_PARAMETERS[argument]!;
    }
    if (intrinsic === 'Fn::GetAtt' && Array.isArray(argument) && argument[1] === 'Arn') {
      return functionArn(String(argument[0]));
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} in the definition of ${where}`);
}
