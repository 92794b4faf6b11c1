/**
 * The types of the lake's results that callers of {@link Lake} (the CLI first) name in their own code: job records,
 * run observers, query plans and streams, pipeline plans. Plain re-exports of the lower layers' types, so a caller
 * depends on the façade only and never on `pipeline/` or `engine/` paths.
 */
export type { ExportResult, QueryPlan, QueryStream, TableScanPlan } from '../engine/index.js'
export type { LogicalNode } from '../pipeline/logical-plan.js'
export type { PhysicalPlan, PlanStep, ScanNode } from '../pipeline/physical-plan.js'
export type { PlannedProject } from '../pipeline/plan-project.js'
export type {
  AnyJobRecord,
  JobRecord,
  JobStatus,
  NodeRecord,
  OperationJobRecord,
  RunObserver,
  RunOutcome,
} from '../pipeline/run/index.js'
export type { ScaffoldedProject } from '../pipeline/scaffold-project.js'
