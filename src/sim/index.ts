/**
 * tarn's scheduling simulator: an event-driven, Eudoxia-compatible simulator of data pipelines run as containers in
 * pools of CPU and RAM under a pluggable scheduler policy.
 */

export { generateWorkload, normalSampler, segmentFromValue } from './generator.js'
export { arrivalTicks, operatorTicks } from './operator-timing.js'
export type { EngineMode, RawOutcome, SimulateOptions, UtilisationSample } from './outcome.js'
export type { SimParams } from './params.js'
export { DEFAULT_PARAMS, loadParams, paramsFromObject, parseParams } from './params.js'
export { renderPlot } from './plot.js'
export { loadPolicyFile, resolvePolicy } from './policy-loader.js'
export type { SimReport, SimStats } from './report.js'
export { buildStats, formatCompareTable, formatStatsTable, statsToJson } from './report.js'
export { runSimulation } from './run.js'
export { CPU_SCALINGS, cpuSeconds, DISK_SCAN_GB_SEC, isCpuScaling } from './scaling.js'
export { simulate } from './simulate.js'
export type { PipelineStats } from './stats.js'
export { adjustedLatency, mean, percentile, pipelineStats } from './stats.js'
export { formatTrace, loadTrace, parseCsv, parseTrace, traceName } from './trace.js'
export type { OperatorSpec, PipelineSpec, Workload } from './workload.js'
export { inTopologicalOrder, topologicalOrder } from './workload.js'
