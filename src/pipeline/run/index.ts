/**
 * Pipeline runs: the run transaction (`runPipeline`), reruns, job records, code snapshots and logs under `_tarn/`.
 */

export { readProjectFiles, writeProjectFiles } from './code-files.js'
export type {
  AnyJobRecord,
  JobRecord,
  JobStatus,
  NodeRecord,
  OperationJobRecord,
  ScanRecord,
} from './job-record.js'
export {
  type CodeSnapshot,
  getAnyJob,
  getCodeSnapshot,
  getJob,
  getJobLog,
  listAllJobs,
  listJobs,
  putCodeSnapshot,
  putJob,
  putJobLog,
  TARN_PREFIX,
} from './job-store.js'
export { type MaterializeInput, type MaterializeResult, materializeModel } from './materialize.js'
export { type RerunOptions, rerunJob } from './rerun.js'
export type { RunLake } from './run-lake.js'
export type { RunObserver } from './run-observer.js'
export { type RunOutcome, type RunPipelineOptions, runPipeline } from './run-pipeline.js'
export { runScan, scanFilterExpression } from './run-scan.js'
