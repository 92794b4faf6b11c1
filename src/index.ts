/**
 * tarn's public SDK: open a {@link Lake}, branch it, commit to it, merge it.
 */
export * from './catalog/index.js'
export { pipelinePlanJson, renderPlan } from './cli/format/plan-render.js'
export { main as runCli } from './cli/main.js'
export { RemoteLake, type RemoteLakeOptions } from './client/remote-lake.js'
export {
  QueryEngine,
  type QueryEngineOptions,
  type QueryOptions,
  type QueryPlan,
  QueryResult,
  QueryStream,
  type TableScanPlan,
} from './engine/index.js'
export type { GcOptions, GcReport } from './lake/garbage-collector.js'
export {
  IcebergCatalog,
  type IcebergCommitResult,
  type IcebergNewTable,
  type IcebergTable,
  type IcebergTableCommit,
} from './lake/iceberg-catalog.js'
export {
  type CommitWithDiff,
  type InterruptedJob,
  Lake,
  type LakeInfo,
  type LakeOptions,
  type PlanOptions,
  type RefWithCommit,
  type SealedBranchCleanup,
  type TableDetails,
  type TableEntry,
  type TableWriteResult,
} from './lake/lake.js'
export type {
  LakeApi,
  NamespaceEntry,
  PrintedQuery,
  PrintQueryOptions,
  ProjectPlan,
  QueryBatches,
} from './lake/lake-api.js'
export { type LakeConfig, type LakeLocation, resolveLakeConfig } from './lake/lake-config.js'
export { openCatalogBackend } from './lake/open-backend.js'
export type { PrintFormat, TextSink } from './lake/query-output.js'
export type { DiffRowValue, RefDiff, TableChange } from './lake/ref-diff.js'
export { RUN_BRANCH_PREFIX } from './lake/reserved-branch.js'
export {
  buildLogicalPlan,
  buildPhysicalPlan,
  type ExpectationConfig,
  type ExpectationDef,
  type ExpectationDescriptor,
  type ExpectationFunction,
  type ExpectationResult,
  expect,
  expectation,
  type InputDef,
  type InputOptions,
  type InputSpec,
  input,
  type LakeTableInfo,
  type LoadProjectOptions,
  type LogicalNode,
  type LogicalPlan,
  loadProject,
  MATERIALIZATIONS,
  type Materialization,
  type ModelConfig,
  type ModelContext,
  type ModelDef,
  type ModelDescriptor,
  type ModelFunction,
  type ModelInputs,
  type ModelResult,
  model,
  type ParameterDef,
  type ParameterValue,
  type PhysicalPlan,
  type PlanLakeState,
  type PlannedProject,
  type PlanProjectOptions,
  type PlanStep,
  type Project,
  planProblems,
  planProject,
  planWarnings,
  type ScanNode,
  selectPlan,
  validatePlan,
} from './pipeline/index.js'
export type { WorkerOptions, WorkerSummary } from './pipeline/remote/run-worker.js'
export type { RemoteRunOptions } from './pipeline/remote/submit-remote-run.js'
export {
  getJob,
  getJobLog,
  type JobRecord,
  listJobs,
  type NodeRecord,
  type RunObserver,
  type RunOutcome,
  type RunPipelineOptions,
  rerunJob,
  runPipeline,
} from './pipeline/run/index.js'
export {
  type AccessAction,
  type AccessNeed,
  type AccessRule,
  parseAccessRule,
} from './server/auth/access-rules.js'
export { type ApiKeyInfo, type ApiKeyPrincipal, ApiKeyStore } from './server/auth/api-key-store.js'
export type { ServerOptions } from './server/create-server.js'
export type { QueryEnd } from './server/route-context.js'
export type { RunEvent } from './server/run-stream.js'
export { isLoopback, type RunningServer, serve } from './server/serve.js'
export type { ServedLake } from './server/served-lake.js'
export { DEFAULT_SERVER_LIMITS, type ServerLimits } from './server/server-limits.js'
export * from './storage/index.js'
export { type Clock, fixedClock, systemClock } from './util/clock.js'
export {
  asTarnError,
  ERROR_CODES,
  type ErrorCode,
  type ErrorCodeInfo,
  type ErrorContext,
  exitCodeFor,
  httpStatusFor,
  isErrorCode,
  isTarnError,
  TarnError,
} from './util/errors.js'
export { type Random, seededRandom, systemRandom } from './util/random.js'
