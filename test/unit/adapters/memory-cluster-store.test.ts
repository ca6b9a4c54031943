import { MemoryClusterStore } from '../../../lambdas/adapters/memory/cluster-store.ts';
import { describeClusterStoreContract } from '../../contract/cluster-store.contract.ts';
import { describeClusterWritesContract } from '../../contract/cluster-writes.contract.ts';
import { fakeClock } from '../../support/fake-clock.ts';

async function memoryStore() {
  const clock = fakeClock();
  return { store: new MemoryClusterStore({ clock }), clock };
}

describeClusterStoreContract('MemoryClusterStore', memoryStore);
describeClusterWritesContract('MemoryClusterStore', memoryStore);
