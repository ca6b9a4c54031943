import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ClusterApi } from '../constructs/cluster-api.ts';
import { ClusterTable } from '../constructs/cluster-table.ts';
import { ClusterWorkflows } from '../constructs/cluster-workflows.ts';

export interface BilboStackProps extends StackProps {
  /**
   * Protect the clusters table from deletion.
   * @default true
   */
  readonly tableDeletionProtection?: boolean;
}

/** One bilbo deployment: the clusters table, the workflows and the signed API. */
export class BilboStack extends Stack {
  readonly table: ClusterTable;
  readonly workflows: ClusterWorkflows;
  readonly api: ClusterApi;

  constructor(scope: Construct, id: string, props: BilboStackProps = {}) {
    super(scope, id, props);
    const environment = { MACHINE_PROVIDER: 'ec2' };

    this.table = new ClusterTable(this, 'Clusters', { deletionProtection: props.tableDeletionProtection });
    this.workflows = new ClusterWorkflows(this, 'Workflows', { table: this.table, environment });
    this.api = new ClusterApi(this, 'Api', { table: this.table, workflows: this.workflows, environment });

    // RestApi always outputs its URL; give that output a stable name instead of adding a second one.
    const endpoint = this.api.api.node.findChild('Endpoint') as CfnOutput;
    endpoint.overrideLogicalId('ApiUrl');
    endpoint.description = 'The bilbo API (SigV4, execute-api)';
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The clusters table' });
  }
}
