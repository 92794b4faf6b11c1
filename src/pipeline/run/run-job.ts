import type { ProcessIdentity } from '../../util/process-identity.js'
import type { PlannedProject } from '../plan-project.js'
import type { RunningJob } from './execute-plan.js'
import type { RunPipelineOptions } from './run-pipeline.js'

/**
 * The facts a new run's job record starts from.
 */
export interface RunJobStart {
  readonly id: string
  readonly target: string
  readonly runBranch: string
  readonly dataCommit: string
  readonly baseCommit: string
  readonly codeHash: string
  readonly planned: PlannedProject
  readonly options: Pick<RunPipelineOptions, 'select' | 'strict' | 'rerunOf'>
  readonly author: string
  /** The process that runs the whole job (absent for a run whose nodes workers execute). */
  readonly runner?: ProcessIdentity
  readonly startedAt: number
}

/**
 * The job record of a run that is starting: status `running`, every plan step `waiting` with its dependencies.
 */
export function initialRunJob(s: RunJobStart): RunningJob {
  const plan = s.planned.physical
  return {
    id: s.id,
    kind: 'run',
    status: 'running',
    project: s.planned.project.name,
    target: s.target,
    runBranch: s.runBranch,
    dataCommit: s.dataCommit,
    baseCommit: s.baseCommit,
    codeHash: s.codeHash,
    params: { ...s.planned.logical.params },
    select: s.options.select ? [...s.options.select] : null,
    strict: s.options.strict === true,
    rerunOf: s.options.rerunOf ?? null,
    author: s.author,
    ...(s.runner !== undefined ? { runner: s.runner } : {}),
    startedAt: s.startedAt,
    finishedAt: null,
    nodes: plan.steps.map((st) => ({
      id: st.id,
      kind: st.kind,
      name: st.name,
      dependsOn: [...st.dependsOn],
      ...(st.language !== undefined ? { language: st.language } : {}),
      status: 'waiting',
      rows: null,
      startedAt: null,
      finishedAt: null,
      error: null,
    })),
    tables: {},
    mergeCommit: null,
    warnings: [],
    error: null,
  }
}
