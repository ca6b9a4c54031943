import { MemoryClusterStore } from '../../../lambdas/adapters/memory/cluster-store.ts';
import { describeClusterStoreContract } from '../../contract/cluster-store.contract.ts';
import { fakeClock } from '../../support/fake-clock.ts';

describeClusterStoreContract('MemoryClusterStore', async () => {
  const clock = fakeClock();
  return { store: new MemoryClusterStore({ clock }), clock };
});
