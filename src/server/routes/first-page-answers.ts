import type { FastifyInstance } from 'fastify'

/** The branches page's own calls whose answers go into `index.html`; a lake with more branches reads the rest itself. */
const MAX_HEADS = 50

/**
 * The API's answers to the GETs of the app's first page (the branch list, tags, protected branches and each branch's
 * head commit), asked of this server as a caller without a key would ask them, keyed by path under `/api/v1`. The page
 * shows them in its first render instead of asking for them after it loads. A server that needs a key answers
 * `undefined` (nothing goes into a page anyone can fetch), as it does when any answer is not a 200.
 */
export async function firstPageAnswers(app: FastifyInstance): Promise<Record<string, unknown> | undefined> {
  const get = async (path: string): Promise<unknown> => {
    const res = await app.inject({ method: 'GET', url: `/api/v1${path}` })
    return res.statusCode === 200 ? (res.json() as unknown) : undefined
  }
  const lists = ['/branches', '/tags', '/protected-branches']
  const [branches, ...rest] = await Promise.all(lists.map(get))
  if (branches === undefined || rest.includes(undefined)) return undefined
  const names = (branches as { branches: readonly { name: string }[] }).branches
    .slice(0, MAX_HEADS)
    .map((b) => `/branches/${encodeURIComponent(b.name)}`)
  const heads = await Promise.all(names.map(get))
  const bodies = [branches, ...rest, ...heads]
  const answers: Record<string, unknown> = {}
  for (const [i, path] of [...lists, ...names].entries()) {
    if (bodies[i] !== undefined) answers[path] = bodies[i]
  }
  return answers
}
