/**
 * What Lambda needs in a VPC function's execution role to place the function
 * in its subnets: the EC2 actions of the managed
 * AWSLambdaVPCAccessExecutionRole (its v3, which the Lambda developer guide's
 * VPC page lists too), without its log actions — the function writes only to
 * its own log group, granted apart — and scoped to the function's subnets and
 * security groups where EC2 allows a resource.
 */
import { PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { regionalArn } from './arns.ts';
import type { FunctionVpcPlacement } from './bilbo-function.ts';

/** Lambda names the interfaces it creates: no id is known in advance. */
export const ANY_NETWORK_INTERFACE = 'network-interface/*';

/**
 * ec2:CreateNetworkInterface, DescribeNetworkInterfaces (only on `*`, as EC2
 * requires), DescribeSubnets, DeleteNetworkInterface, Assign- and
 * UnassignPrivateIpAddresses: creating only in the placement's subnets with its groups.
 */
export function networkInterfacePolicy(placement: FunctionVpcPlacement): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'DescribeForPlacement',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
      new PolicyStatement({
        sid: 'CreateInFunctionSubnets',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          regionalArn('ec2', ANY_NETWORK_INTERFACE),
          ...placement.subnets.map((subnet) => regionalArn('ec2', `subnet/${subnet.subnetId}`)),
          ...placement.securityGroups.map((group) =>
            regionalArn('ec2', `security-group/${group.securityGroupId}`),
          ),
        ],
      }),
      new PolicyStatement({
        sid: 'ManageInterfaces',
        actions: [
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [regionalArn('ec2', ANY_NETWORK_INTERFACE)],
      }),
    ],
  });
}
