import { RemovalPolicy } from 'aws-cdk-lib';
import { type Attribute, AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import {
  BILLING_MODE,
  GLOBAL_INDEXES,
  type KeyAttribute,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../lambdas/adapters/dynamodb/table-design.ts';
import { environmentOf, TABLE } from '../../lambdas/config.ts';
import { addEnvironment } from './bilbo-function.ts';
import { acknowledge, arnInFinding } from './nag.ts';

export interface ClusterTableProps {
  /** @default true */
  readonly deletionProtection?: boolean;
}

const BILLING: Record<typeof BILLING_MODE, () => Billing> = {
  PAY_PER_REQUEST: () => Billing.onDemand(),
};

/**
 * The clusters table (clusters, name locks, events), built from the one
 * table design the adapter and local mode also use. Kept on stack delete.
 */
export class ClusterTable extends TableV2 {
  constructor(scope: Construct, id: string, props: ClusterTableProps = {}) {
    super(scope, id, {
      partitionKey: attribute(PARTITION_KEY),
      sortKey: attribute(SORT_KEY),
      globalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
      })),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      billing: BILLING[BILLING_MODE](),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Lets `fn` read and write the table, and tells it the table's name (lambdas/config.ts TABLE). */
  grantReadWriteTo(fn: LambdaFunction): void {
    this.grantReadWriteData(fn);
    if (fn.role) {
      acknowledge(
        fn.role,
        `IAM5[Resource::${arnInFinding(this)}/index/*]`,
        'Read/write on the table includes its global secondary indexes (byName, byKind), which the handlers query.',
      );
    }
    addEnvironment(fn, environmentOf(TABLE, { tableName: this.tableName }));
  }
}

function attribute(key: KeyAttribute): Attribute {
  const types: Record<KeyAttribute['type'], AttributeType> = { S: AttributeType.STRING };
  return { name: key.name, type: types[key.type] };
}
