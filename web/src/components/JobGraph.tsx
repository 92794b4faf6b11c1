import { duration } from '../format'
import type { NodeRecord } from '../types'
import { Scroll } from './Scroll'

const COL = 190
const ROW = 74
const W = 170
/** The longest node name shown whole in a box (bold 12px); a longer one ends in an ellipsis, whole in its title. */
const NAME_CHARS = 20
const H = 58

const KIND_ORDER: Record<NodeRecord['kind'], number> = { scan: 0, model: 1, materialize: 2, expectation: 3 }

/** Column of each node: the longest path of `dependsOn` to it (by kind for records without dependencies). */
export function levelsOf(nodes: readonly NodeRecord[]): Map<string, number> {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const level = new Map<string, number>()
  const visit = (n: NodeRecord, seen: Set<string>): number => {
    const known = level.get(n.id)
    if (known !== undefined) return known
    if (n.dependsOn === undefined) return KIND_ORDER[n.kind]
    seen.add(n.id)
    let l = 0
    for (const d of n.dependsOn) {
      const dep = byId.get(d)
      if (dep && !seen.has(d)) l = Math.max(l, visit(dep, seen) + 1)
    }
    level.set(n.id, l)
    return l
  }
  for (const n of nodes) level.set(n.id, visit(n, new Set()))
  return level
}

/** The gap between two columns of boxes, and between two rows. */
const COL_GAP = COL - W
const ROW_GAP = ROW - H

/**
 * The path of an arrow from the box at `a` to the box at `b` (top-left corners). Between neighbouring columns it is
 * one curve through the gap between them; an arrow that skips columns runs along the gap between two rows of boxes
 * (the one nearest the straight line), so it never crosses a box on its way.
 */
export function edgePath(a: { x: number; y: number }, b: { x: number; y: number }): string {
  const ay = a.y + H / 2
  const by = b.y + H / 2
  const x0 = a.x + W
  if (b.x - x0 <= COL_GAP) return `M${x0},${ay} C${x0 + COL_GAP},${ay} ${b.x - COL_GAP},${by} ${b.x},${by}`
  const rowOf = (y: number): number => Math.round((y - 8) / ROW)
  const between = (rowOf(a.y) + rowOf(b.y) + 1) / 2
  const lane = 8 + Math.round(between) * ROW - ROW_GAP / 2
  const out = x0 + COL_GAP / 2
  const into = b.x - COL_GAP / 2
  return [
    `M${x0},${ay}`,
    `C${out},${ay} ${x0},${lane} ${out},${lane}`,
    `L${into},${lane}`,
    `C${b.x},${lane} ${into},${by} ${b.x},${by}`,
  ].join(' ')
}

function label(n: NodeRecord): string {
  return n.kind === 'model' && n.language !== undefined ? `${n.language.toUpperCase()} model` : n.kind
}

/** A job's DAG: a box per node (kind, status, duration, rows, files read), an arrow per dependency. */
export function JobGraph({ nodes, now }: { nodes: readonly NodeRecord[]; now: number }) {
  const level = levelsOf(nodes)
  const slot = new Map<string, { x: number; y: number }>()
  const filled = new Map<number, number>()
  for (const n of nodes) {
    const l = level.get(n.id) ?? 0
    const i = filled.get(l) ?? 0
    filled.set(l, i + 1)
    slot.set(n.id, { x: 8 + l * COL, y: 8 + i * ROW })
  }
  const width = 16 + Math.max(1, ...[...level.values()].map((l) => l + 1)) * COL
  const height = 16 + Math.max(1, ...filled.values()) * ROW
  const done = nodes.filter((n) => n.status === 'done').length
  return (
    <Scroll label="Job graph" class="dag-wrap">
      <svg
        class="dag"
        width={width}
        height={height}
        role="img"
        aria-label={`DAG of ${nodes.length} nodes, ${done} done`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="6"
            markerHeight="6"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {nodes.flatMap((n) =>
          (n.dependsOn ?? []).map((d) => {
            const a = slot.get(d)
            const b = slot.get(n.id)
            if (!a || !b) return null
            return <path key={`${d}>${n.id}`} class="dag-edge" d={edgePath(a, b)} marker-end="url(#arrow)" />
          }),
        )}
        {nodes.map((n) => {
          const p = slot.get(n.id) ?? { x: 0, y: 0 }
          const took = duration(n.startedAt, n.finishedAt, now)
          // a scan's files go on the last line, so its time moves up beside its status: each line fits the box
          const kind = [label(n), n.status, n.scan ? took : ''].filter((s) => s !== '').join(' · ')
          const facts = [
            n.scan ? '' : took,
            n.rows !== null ? `${n.rows} rows` : '',
            n.scan ? `${n.scan.filesKept}/${n.scan.filesTotal} files` : '',
          ]
            .filter((s) => s !== '')
            .join(' · ')
          return (
            <g key={n.id} class={`dag-node ${n.status}`} data-node={n.id} data-status={n.status}>
              <title>{`${n.name}: ${kind}${facts ? ` · ${facts}` : ''}`}</title>
              <rect x={p.x} y={p.y} width={W} height={H} rx={6} />
              <text x={p.x + 8} y={p.y + 16} class="dag-name">
                {n.name.length > NAME_CHARS ? `${n.name.slice(0, NAME_CHARS - 1)}…` : n.name}
              </text>
              <text x={p.x + 8} y={p.y + 32} class="dag-kind">
                {kind}
              </text>
              <text x={p.x + 8} y={p.y + 48} class="dag-facts">
                {facts}
              </text>
            </g>
          )
        })}
      </svg>
    </Scroll>
  )
}
