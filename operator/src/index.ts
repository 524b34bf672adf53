export { WorkQueue } from './kube/work-queue.js';
export type { ReconcileOutcome, WorkQueueOptions } from './kube/work-queue.js';
export { LeaderElector } from './kube/leader-election.js';
export type { LeaderElectionOptions } from './kube/leader-election.js';
