import type { ProcessIdentity } from '../../util/process-identity.js'
import type { RunningJob } from './execute-plan.js'
import type { RunPipelineOptions } from './run-pipeline.js'
import type { RunStart } from './run-start.js'

/**
 * The facts a new run's job record starts from besides its {@link RunStart}.
 */
export interface RunJobStart {
  readonly options: Pick<RunPipelineOptions, 'select' | 'strict' | 'rerunOf'>
  readonly author: string
  /** The process that runs the whole job (absent for a run whose nodes workers execute). */
  readonly runner?: ProcessIdentity
  readonly startedAt: number
}

/**
 * The job record of a run that is starting: status `running`, every plan step `waiting` with its dependencies.
 */
export function initialRunJob(r: RunStart, s: RunJobStart): RunningJob {
  const plan = r.planned.physical
  return {
    id: r.jobId,
    kind: 'run',
    status: 'running',
    project: r.planned.project.name,
    target: r.target,
    runBranch: r.runBranch,
    dataCommit: r.dataCommit.hash,
    baseCommit: r.baseCommit,
    codeHash: r.codeHash,
    params: { ...r.planned.logical.params },
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
