import { RemovalPolicy } from 'aws-cdk-lib';
import { type Attribute, AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import {
  BILLING_MODE,
  GLOBAL_INDEXES,
  type IndexDesign,
  type KeyAttribute,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../lambdas/adapters/dynamodb/table-design.ts';
import { environmentOf, TABLE } from '../../lambdas/config.ts';
import { addEnvironment } from './bilbo-function.ts';

/**
 * What a function may do to the table's items. A transaction needs the
 * action of each of its items: Put → PutItem, Update → UpdateItem,
 * Delete → DeleteItem, ConditionCheck → ConditionCheckItem.
 */
export const ITEM = {
  get: 'dynamodb:GetItem',
  put: 'dynamodb:PutItem',
  update: 'dynamodb:UpdateItem',
  delete: 'dynamodb:DeleteItem',
  conditionCheck: 'dynamodb:ConditionCheckItem',
} as const;

export type ItemAction = (typeof ITEM)[keyof typeof ITEM];

/** The DynamoDB actions a function takes on the clusters table, and nothing else: no scans, batches or streams. */
export interface TableAccess {
  readonly items: readonly ItemAction[];
  /**
   * Query the table itself (a cluster's events).
   * @default false
   */
  readonly queryTable?: boolean;
  /**
   * The global secondary indexes it queries.
   * @default - none
   */
  readonly queryIndexes?: readonly IndexDesign[];
}

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

  /**
   * Lets `fn` take exactly these actions on the table (and query these
   * indexes, named one by one), and tells it the table's name (lambdas/config.ts TABLE).
   */
  grantTo(fn: LambdaFunction, access: TableAccess): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...access.items, ...(access.queryTable ? ['dynamodb:Query'] : [])],
        resources: [this.tableArn],
      }),
    );
    const indexes = access.queryIndexes ?? [];
    if (indexes.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: indexes.map((index) => `${this.tableArn}/index/${index.indexName}`),
        }),
      );
    }
    addEnvironment(fn, environmentOf(TABLE, { tableName: this.tableName }));
  }
}

function attribute(key: KeyAttribute): Attribute {
  const types: Record<KeyAttribute['type'], AttributeType> = { S: AttributeType.STRING };
  return { name: key.name, type: types[key.type] };
}
