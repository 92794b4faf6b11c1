import type { Commit } from '../types'

const ROW = 28
const LANE = 14

/** Lane of each commit, newest first, the way `git log --graph` lays them out: first parents stay in their lane. */
export function lanesOf(commits: readonly Commit[]): { lane: Map<string, number>; width: number } {
  const lanes: (string | null)[] = []
  const lane = new Map<string, number>()
  for (const c of commits) {
    let i = lanes.indexOf(c.hash)
    if (i < 0) {
      i = lanes.indexOf(null)
      if (i < 0) i = lanes.push(null) - 1
    }
    lane.set(c.hash, i)
    for (let j = 0; j < lanes.length; j++) if (j !== i && lanes[j] === c.hash) lanes[j] = null
    const [first, ...rest] = c.parents
    lanes[i] = first ?? null
    for (const p of rest) {
      if (lanes.includes(p)) continue
      const free = lanes.indexOf(null)
      if (free < 0) lanes.push(p)
      else lanes[free] = p
    }
  }
  return { lane, width: Math.max(1, ...[...lane.values()].map((l) => l + 1)) }
}

/** The commit graph beside the log: a dot per commit, an edge per parent (merges have two). */
export function CommitGraph({ commits }: { commits: readonly Commit[] }) {
  const { lane, width } = lanesOf(commits)
  const row = new Map(commits.map((c, i) => [c.hash, i]))
  const x = (l: number): number => LANE / 2 + l * LANE
  const y = (r: number): number => ROW / 2 + r * ROW
  const edges: preact.JSX.Element[] = []
  commits.forEach((c, r) => {
    const l = lane.get(c.hash) ?? 0
    c.parents.forEach((p, k) => {
      const pr = row.get(p)
      const pl = lane.get(p)
      const endRow = pr ?? commits.length
      const endLane = pl ?? l
      const d =
        endLane === l
          ? `M${x(l)},${y(r)} L${x(l)},${y(endRow)}`
          : `M${x(l)},${y(r)} L${x(endLane)},${y(r + 1)} L${x(endLane)},${y(endRow)}`
      edges.push(<path key={`${c.hash}-${p}`} d={d} class={k > 0 ? 'edge merge-edge' : 'edge'} />)
    })
  })
  return (
    <svg
      class="graph"
      width={width * LANE}
      height={commits.length * ROW}
      aria-hidden="true"
      data-merge-edges={edges.filter((e) => (e.props as { class?: string }).class?.includes('merge')).length}
    >
      {edges}
      {commits.map((c, r) => (
        <circle
          key={c.hash}
          cx={x(lane.get(c.hash) ?? 0)}
          cy={y(r)}
          r={c.parents.length > 1 ? 5 : 4}
          class={c.parents.length > 1 ? 'dot merge' : 'dot'}
        />
      ))}
    </svg>
  )
}
