import { readFileSync } from 'node:fs'
import type { Priority } from '../runtime/scheduler/policy.js'
import { TarnError } from '../util/errors.js'
import { isCpuScaling } from './scaling.js'
import type { OperatorSpec, PipelineSpec, Workload } from './workload.js'
import { inTopologicalOrder } from './workload.js'

const PRIORITY_NAMES: Record<string, Priority> = {
  QUERY: 'query',
  INTERACTIVE: 'interactive',
  BATCH_PIPELINE: 'batch',
}

/**
 * Eudoxia's name of a priority in traces.
 */
export function traceName(p: Priority): string {
  return p === 'batch' ? 'BATCH_PIPELINE' : p.toUpperCase()
}

const COLUMNS = [
  'pipeline_id',
  'arrival_seconds',
  'priority',
  'operator_id',
  'parents',
  'baseline_cpu_seconds',
  'cpu_scaling',
  'memory_gb',
  'storage_read_gb',
] as const

/**
 * Splits CSV text into records of fields (RFC 4180 quoting), with the 1-based line each record starts on.
 */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = []
  let fields: string[] = []
  let field = ''
  let quoted = false
  let line = 1
  let start = 1
  let any = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else {
        if (ch === '\n') line++
        field += ch
      }
      continue
    }
    if (ch === '"') {
      quoted = true
      any = true
    } else if (ch === ',') {
      fields.push(field)
      field = ''
      any = true
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      if (any || field !== '') {
        fields.push(field)
        out.push({ line: start, fields })
      }
      fields = []
      field = ''
      any = false
      line++
      start = line
    } else {
      field += ch
      any = true
    }
  }
  if (any || field !== '') {
    fields.push(field)
    out.push({ line: start, fields })
  }
  return out
}

interface Row {
  line: number
  pipelineId: string
  arrival: number | null
  priority: string
  operatorId: string
  parents: string[]
  op: Omit<OperatorSpec, 'parents' | 'name'>
}

/**
 * Parses an Eudoxia `trace.csv` (one row per operator; arrival and priority on the first row of each pipeline) into
 * a workload. Errors name the file and line.
 */
export function parseTrace(text: string, file = '<trace>'): Workload {
  const records = parseCsv(text)
  const header = records.shift()
  const fail = (line: number, message: string): never => {
    throw new TarnError('INVALID_ARGUMENT', `${file}:${line}: ${message}`, { file, line })
  }
  if (header === undefined) fail(1, 'empty trace: expected a header row')
  const h = header as { line: number; fields: string[] }
  const index = new Map<string, number>()
  h.fields.forEach((f, i) => {
    index.set(f.trim(), i)
  })
  for (const c of COLUMNS) if (!index.has(c)) fail(h.line, `missing column ${c}`)
  const rows: Row[] = []
  for (const r of records) {
    const get = (c: (typeof COLUMNS)[number]): string => (r.fields[index.get(c) as number] ?? '').trim()
    const num = (c: (typeof COLUMNS)[number], optional: boolean): number | null => {
      const s = get(c)
      if (s === '') {
        if (optional) return null
        return fail(r.line, `${c} is required`)
      }
      const n = Number(s)
      if (!Number.isFinite(n)) fail(r.line, `${c} must be a number, got '${s}'`)
      return n
    }
    const scaling = get('cpu_scaling')
    if (!isCpuScaling(scaling)) fail(r.line, `unknown cpu_scaling '${scaling}'`)
    const pipelineId = get('pipeline_id')
    const operatorId = get('operator_id')
    if (pipelineId === '') fail(r.line, 'pipeline_id is required')
    if (operatorId === '') fail(r.line, 'operator_id is required')
    const storage = num('storage_read_gb', false) as number
    const baseline = num('baseline_cpu_seconds', false) as number
    if (storage < 0 || baseline < 0) fail(r.line, 'sizes and times must not be negative')
    rows.push({
      line: r.line,
      pipelineId,
      arrival: num('arrival_seconds', true),
      priority: get('priority'),
      operatorId,
      parents: get('parents')
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      op: {
        baselineCpuSeconds: baseline,
        cpuScaling: scaling as OperatorSpec['cpuScaling'],
        memoryGb: num('memory_gb', true),
        storageReadGb: storage,
      },
    })
  }
  const pipelines: PipelineSpec[] = []
  let i = 0
  const seen = new Set<string>()
  while (i < rows.length) {
    const first = rows[i] as Row
    if (seen.has(first.pipelineId))
      fail(first.line, `rows of pipeline ${first.pipelineId} are not contiguous`)
    seen.add(first.pipelineId)
    const priority = PRIORITY_NAMES[first.priority]
    if (first.priority === '')
      fail(first.line, `first row of pipeline ${first.pipelineId} must have a priority`)
    if (priority === undefined) fail(first.line, `unknown priority '${first.priority}'`)
    if (first.arrival === null) {
      fail(first.line, `first row of pipeline ${first.pipelineId} must have arrival_seconds`)
    }
    const ops: OperatorSpec[] = []
    const byName = new Map<string, number>()
    while (i < rows.length && (rows[i] as Row).pipelineId === first.pipelineId) {
      const r = rows[i] as Row
      if (r !== first && r.priority !== '')
        fail(r.line, `only the first row of ${r.pipelineId} may set priority`)
      if (r !== first && r.arrival !== null) {
        fail(r.line, `only the first row of ${r.pipelineId} may set arrival_seconds`)
      }
      if (byName.has(r.operatorId)) fail(r.line, `duplicate operator ${r.operatorId} in ${r.pipelineId}`)
      const parents = r.parents.map((p) => {
        const at = byName.get(p)
        if (at === undefined) return fail(r.line, `parent ${p} of ${r.operatorId} is not defined above it`)
        return at
      })
      byName.set(r.operatorId, ops.length)
      ops.push({ name: r.operatorId, parents, ...r.op })
      i++
    }
    pipelines.push({
      id: first.pipelineId,
      priority: priority as Priority,
      arrivalSeconds: first.arrival as number,
      operators: inTopologicalOrder(ops),
    })
  }
  return { source: 'trace', pipelines }
}

/**
 * Reads and parses a trace file.
 */
export function loadTrace(path: string): Workload {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new TarnError('INVALID_ARGUMENT', `cannot read trace file ${path}`, { file: path }, { cause: e })
  }
  return parseTrace(text, path)
}

/**
 * Writes a workload as an Eudoxia trace CSV.
 */
export function formatTrace(w: Workload): string {
  const lines: string[] = [COLUMNS.join(',')]
  for (const p of w.pipelines) {
    p.operators.forEach((o, i) => {
      lines.push(
        [
          p.id,
          i === 0 ? String(p.arrivalSeconds) : '',
          i === 0 ? traceName(p.priority) : '',
          o.name,
          o.parents.map((x) => p.operators[x]?.name ?? '').join(';'),
          String(o.baselineCpuSeconds),
          o.cpuScaling,
          o.memoryGb === null ? '' : String(o.memoryGb),
          String(o.storageReadGb),
        ].join(','),
      )
    })
  }
  return `${lines.join('\n')}\n`
}
