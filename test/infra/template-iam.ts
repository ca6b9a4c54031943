/**
 * Reading IAM out of a synthesized template by intent: the statements a
 * function's role holds (found through the function's bilbo:entry), with
 * ARNs rendered as readable text instead of CloudFormation intrinsics.
 */
import type { Template } from 'aws-cdk-lib/assertions';

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

function resourcesOf(template: Template): Record<string, Resource> {
  return template.toJSON().Resources as Record<string, Resource>;
}

/** `arn:<AWS::Partition>:ec2:…`: pseudo parameters and references as `<Name>`, `<Id.Attr>`. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  const intrinsic = value as Record<string, unknown>;
  if ('Ref' in intrinsic) return `<${intrinsic.Ref as string}>`;
  if ('Fn::GetAtt' in intrinsic) return `<${(intrinsic['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Join' in intrinsic) {
    const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  return JSON.stringify(value);
}

export function actionsOf(statement: Statement): string[] {
  return ([] as string[]).concat(statement.Action);
}

export function resourcesIn(statement: Statement): string[] {
  return ([] as unknown[]).concat(statement.Resource ?? []).map(render);
}

/** The logical id of the function whose bilbo:entry is `entry`. */
export function functionId(template: Template, entry: string): string {
  const found = Object.entries(resourcesOf(template)).filter(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Function' && resource.Metadata?.['bilbo:entry'] === entry,
  );
  if (found.length !== 1) throw new Error(`${found.length} functions run ${entry}`);
  return found[0]![0];
}

/** Every function's bilbo:entry. */
export function entries(template: Template): string[] {
  return Object.values(resourcesOf(template))
    .filter((resource) => resource.Type === 'AWS::Lambda::Function')
    .map((resource) => resource.Metadata?.['bilbo:entry'] as string);
}

/** The logical id of the role a function runs as. */
export function roleOf(template: Template, entry: string): string {
  const fn = resourcesOf(template)[functionId(template, entry)]!;
  return (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** Every statement of the identity policies attached to a role, and of the role's own inline policies. */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  const attached = Object.values(resourcesOf(template))
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((policy) => (policy.Properties.Roles as unknown[]).some((role) => render(role) === `<${roleId}>`))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return [...attached, ...inlineStatementsOf(resourcesOf(template)[roleId]!)];
}

function inlineStatementsOf(role: Resource): Statement[] {
  const inline = (role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>;
  return inline.flatMap((policy) => policy.PolicyDocument.Statement);
}

/** Every statement of the role the function with this entry runs as. */
export function statementsOf(template: Template, entry: string): Statement[] {
  return statementsOfRole(template, roleOf(template, entry));
}

/** Every identity-policy statement in the template: inline policies and customer managed policies. */
export function allStatements(template: Template): Statement[] {
  return Object.values(resourcesOf(template)).flatMap((resource) => {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      return (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    }
    if (resource.Type === 'AWS::IAM::Role') return inlineStatementsOf(resource);
    return [];
  });
}

/** The ec2:, iam:, ssm: and kms: actions a function may take, sorted. */
export function machineActionsOf(template: Template, entry: string): string[] {
  const actions = statementsOf(template, entry).flatMap(actionsOf);
  return [...new Set(actions.filter((action) => /^(ec2|iam|ssm|kms):/.test(action)))].sort();
}

/** The dynamodb: actions a function may take, sorted, by the resource they are granted on. */
export function tableActionsOf(template: Template, entry: string): Record<string, string[]> {
  const granted: Record<string, Set<string>> = {};
  for (const statement of statementsOf(template, entry)) {
    const actions = actionsOf(statement).filter((action) => action.startsWith('dynamodb:'));
    for (const resource of actions.length > 0 ? resourcesIn(statement) : []) {
      granted[resource] = new Set([...(granted[resource] ?? []), ...actions]);
    }
  }
  return Object.fromEntries(
    Object.entries(granted).map(([resource, actions]) => [resource, [...actions].sort()]),
  );
}

/** The AWS managed policies attached to a role, by name (e.g. `service-role/AWSLambdaVPCAccessExecutionRole`). */
export function managedPoliciesOf(template: Template, roleId: string): string[] {
  const role = resourcesOf(template)[roleId]!;
  return ((role.Properties.ManagedPolicyArns ?? []) as unknown[]).map((arn) =>
    render(arn).replace(/^arn:<AWS::Partition>:iam::aws:policy\//, ''),
  );
}

/** `arn:<AWS::Partition>:<service>:<AWS::Region>:<AWS::AccountId>:<resource>`, as `render` writes it. */
export function arnText(service: string, resource: string, account = '<AWS::AccountId>'): string {
  return `arn:<AWS::Partition>:${service}:<AWS::Region>:${account}:${resource}`;
}
