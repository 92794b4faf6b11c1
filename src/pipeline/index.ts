/**
 * Pipelines: the authoring SDK, the project loader and the planner (logical and physical plans).
 */
export { conjuncts, mergeFilters, stripOuterParens } from './conjuncts.js'
export { analyzeFilter, type FilterAnalysis } from './filter-expr.js'
export type { LakeTableInfo, PlanLakeState } from './lake-state.js'
export {
  buildLogicalPlan,
  findCycle,
  type InputSource,
  type LogicalEdge,
  type LogicalInput,
  type LogicalNode,
  type LogicalPlan,
  selectPlan,
} from './logical-plan.js'
export {
  buildPhysicalPlan,
  type PhysicalPlan,
  type PhysicalPlanOptions,
  type PlanStep,
  type ScanNode,
  type ScanReader,
} from './physical-plan.js'
export { type PlannedProject, type PlanProjectOptions, planProject, tablesNeeded } from './plan-project.js'
export {
  type ColumnUse,
  type ExpectationDef,
  type InputDef,
  type ModelDef,
  type ParameterDef,
  type ParameterType,
  type ParameterValue,
  type PartitionFieldDef,
  PROJECT_FILE,
  type Project,
} from './project.js'
export { type ProjectFile, parseParameterValue, parseProjectFile, resolveParams } from './project-file.js'
export { type LoadProjectOptions, loadProject } from './project-loader.js'
export {
  type ExpectationConfig,
  type ExpectationDescriptor,
  type ExpectationFunction,
  type ExpectationResult,
  expect,
  expectation,
  type InputOptions,
  type InputSpec,
  input,
  MATERIALIZATIONS,
  type Materialization,
  type ModelConfig,
  type ModelContext,
  type ModelDescriptor,
  type ModelFunction,
  type ModelInputs,
  type ModelResult,
  model,
} from './sdk.js'
export {
  analyzeSql,
  loadSqlModel,
  parseSqlHeader,
  type SqlAnalysis,
  type SqlHeader,
  type SqlTableRef,
} from './sql-model.js'
export { findParams, type ParamRef, paramSqlLiteral, substituteParams } from './sql-params.js'
export { openSqlParser, type SqlParser } from './sql-parser.js'
export { loadTsModels, SDK_MODULE, type TsModuleDefs } from './ts-model.js'
export { InputCall, type StaticValue } from './ts-static-value.js'
export { planProblems, planWarnings, type ValidateOptions, validatePlan } from './validate.js'
