import type { PhysicalPlan, PlanStep } from '../physical-plan.js'

/**
 * One node execution of a remote run: a model (its model and materialisation steps) or an expectation, with the
 * scans it reads; a worker runs it from plain data. `dependsOn` names the tasks whose models it reads.
 */
export interface RemoteTask {
  readonly name: string
  /** The plan step ids the task runs (its scans included). */
  readonly steps: readonly string[]
  readonly dependsOn: readonly string[]
}

/**
 * The tasks of a plan, in plan order: one per model or expectation.
 */
export function remoteTasks(plan: PhysicalPlan): RemoteTask[] {
  const byId = new Map(plan.steps.map((s) => [s.id, s]))
  const order = plan.levels.flat()
  const names: string[] = []
  for (const id of order) {
    const s = byId.get(id) as PlanStep
    if (s.kind !== 'scan' && !names.includes(s.name)) names.push(s.name)
  }
  return names.map((name) => {
    const own = plan.steps.filter((s) => s.kind !== 'scan' && s.name === name)
    const steps = new Set(own.map((s) => s.id))
    const deps = new Set<string>()
    for (const s of own)
      for (const d of s.dependsOn) {
        const dep = byId.get(d)
        if (!dep) continue
        if (dep.kind === 'scan') steps.add(dep.id)
        else if (dep.name !== name) deps.add(dep.name)
      }
    return { name, steps: order.filter((id) => steps.has(id)), dependsOn: [...deps] }
  })
}
