/**
 * Starts one DynamoDB Local for the whole test run and hands its endpoint to
 * the tests: `inject('dynamoEndpoint')` (see test/support/dynamodb.ts).
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../cli/local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // More than the default 30 s: a loaded machine (parallel runs, CI) starts the JVM slowly.
  const dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000 });
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return () => dynamo.stop();
}
