import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RunObserver, RunOutcome } from '../../lake/lake-types.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { AccessNeed } from '../auth/access-rules.js'
import {
  type ProjectFile,
  type UploadedProject,
  type UploadLimits,
  writeUploadedProject,
} from '../project-upload.js'
import type { RouteContext } from '../route-context.js'
import { NDJSON, type RunEvent, runEventStream } from '../run-stream.js'
import { BOOLEAN, type JsonSchema, object, params, STRING } from './schema.js'

const FILES: JsonSchema = {
  type: 'array',
  items: object({ path: STRING, content: STRING }, ['path', 'content']),
}
/** The success response of a run: JSON lines of {@link RunEvent}s. */
const PROGRESS: Readonly<Record<string, JsonSchema>> = {
  [NDJSON]: { type: 'string', description: 'one JSON document per line; the last is an outcome or an error' },
}
const STRING_LIST: JsonSchema = { type: 'array', items: STRING }
const STRING_MAP: JsonSchema = { type: 'object', additionalProperties: STRING }

interface RunBody {
  files: ProjectFile[]
  branch?: string
  params?: Record<string, string>
  select?: string[]
  strict?: boolean
  message?: string
  data_ref?: string
  project_dir?: string
}

interface PlanBody {
  files: ProjectFile[]
  ref?: string
  params?: Record<string, string>
  select?: string[]
  project_dir?: string
}

/** What landing a run on `target` needs: `write`, and `merge` too when the branch is protected (runs land by merge). */
async function landingNeeds(
  ctx: RouteContext,
  req: FastifyRequest,
  target: string,
): Promise<readonly AccessNeed[]> {
  await ctx.authorize(req, [{ action: 'write', ref: target }])
  const guarded = await ctx.lake(req).protectedBranches()
  return guarded.includes(target) ? [{ action: 'merge', ref: target }] : []
}

/** Error messages and progress name the client's project directory, not the server's scratch copy. */
function scrubber(scratch: string, label: string | undefined): (text: string) => string {
  const shown = label ?? 'the uploaded project'
  const quoted = JSON.stringify(shown).slice(1, -1)
  return (text) => text.split(scratch).join(text.startsWith('{') ? quoted : shown)
}

function scrubError(e: unknown, scrub: (text: string) => string): unknown {
  if (!isTarnError(e)) return e
  const context = JSON.parse(scrub(JSON.stringify(e.context))) as Record<string, unknown>
  return new TarnError(e.code, scrub(e.message), context, { cause: e })
}

/**
 * Runs with a slot of the run gate: the progress body once the run reports, the slot given back (and the uploaded
 * project removed) when the run ends, however it ends.
 */
async function streamRun(
  ctx: RouteContext,
  upload: { files: readonly ProjectFile[]; label: string | undefined } | undefined,
  run: (dir: string | undefined, observer: RunObserver) => Promise<RunOutcome>,
): Promise<Readable> {
  const release = ctx.gate.admit('run')
  let project: UploadedProject | undefined
  let scrub: (text: string) => string = (s) => s
  const cleanup = (): void => {
    release()
    void project?.remove()
  }
  try {
    if (upload) {
      project = await writeUploadedProject(upload.files, uploadLimits(ctx))
      scrub = scrubber(project.dir, upload.label)
    }
    const dir = project?.dir
    return await runEventStream((observer) => run(dir, observer).finally(cleanup), scrub)
  } catch (e) {
    cleanup()
    throw scrubError(e, scrub)
  }
}

function uploadLimits(ctx: RouteContext): UploadLimits {
  return { maxFiles: ctx.limits.maxProjectFiles, maxFileBytes: ctx.limits.maxProjectFileBytes }
}

/**
 * `/runs` (run a pipeline project the client uploads), `/jobs/:id/rerun` and `/plan` (plan an uploaded project
 * without running it). Progress streams back as JSON lines ({@link runEventStream}); a run needs `write` on its
 * branch, and `merge` too when the branch is protected, since a run lands through a merge. At most
 * `maxConcurrentRuns` run at once; one more is refused with `TOO_MANY_REQUESTS` (429, `Retry-After`).
 */
export function runRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: RunBody }>(
    '/runs',
    {
      bodyLimit: ctx.limits.bodyBytes,
      schema: {
        tags: ['runs'],
        summary: 'Run an uploaded pipeline project as one transaction; progress streams as JSON lines',
        produces: PROGRESS,
        body: object(
          {
            files: FILES,
            branch: STRING,
            params: STRING_MAP,
            select: STRING_LIST,
            strict: BOOLEAN,
            message: STRING,
            data_ref: STRING,
            project_dir: STRING,
          },
          ['files'],
        ),
      },
    },
    async (req, reply) => {
      const b = req.body
      const branch = b.branch ?? ctx.active()
      const extra = await landingNeeds(ctx, req, branch)
      await ctx.authorize(req, [
        ...extra,
        ...(b.data_ref !== undefined ? [{ action: 'read' as const, ref: b.data_ref }] : []),
      ])
      const lake = ctx.lake(req)
      const body = await streamRun(ctx, { files: b.files, label: b.project_dir }, (dir, observer) =>
        lake.run({
          dir: dir as string,
          branch,
          ...(b.params ? { params: b.params } : {}),
          ...(b.select ? { select: b.select } : {}),
          ...(b.strict !== undefined ? { strict: b.strict } : {}),
          ...(b.message !== undefined ? { message: b.message } : {}),
          ...(b.data_ref !== undefined ? { dataRef: b.data_ref } : {}),
          observer,
        }),
      )
      return reply.type(NDJSON).send(body)
    },
  )

  app.post<{ Params: { id: string }; Body: { ref?: string; message?: string } }>(
    '/jobs/:id/rerun',
    {
      schema: {
        tags: ['runs'],
        summary: "Re-execute a run job's code snapshot; progress streams as JSON lines",
        produces: PROGRESS,
        params: params('id'),
        body: object({ ref: STRING, message: STRING }),
      },
    },
    async (req, reply) => {
      await ctx.authorize(req, [{ action: 'read' }])
      const lake = ctx.lake(req)
      const old = await lake.getJob(req.params.id)
      const extra = await landingNeeds(ctx, req, old.target)
      const ref = req.body?.ref
      await ctx.authorize(req, [...extra, ...(ref !== undefined ? [{ action: 'read' as const, ref }] : [])])
      const body = await streamRun(ctx, undefined, (_dir, observer) =>
        lake.rerun(req.params.id, {
          ...(ref !== undefined ? { ref } : {}),
          ...(req.body?.message !== undefined ? { message: req.body.message } : {}),
          observer,
        }),
      )
      return reply.type(NDJSON).send(body)
    },
  )

  app.post<{ Body: PlanBody }>(
    '/plan',
    {
      bodyLimit: ctx.limits.bodyBytes,
      schema: {
        tags: ['runs'],
        summary: 'Plan an uploaded pipeline project at a ref without running it',
        body: object(
          { files: FILES, ref: STRING, params: STRING_MAP, select: STRING_LIST, project_dir: STRING },
          ['files'],
        ),
      },
    },
    async (req) => {
      const b = req.body
      const ref = b.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      const lake = ctx.lake(req)
      const project = await writeUploadedProject(b.files, uploadLimits(ctx))
      const scrub = scrubber(project.dir, b.project_dir)
      try {
        const planned = await lake.plan({
          dir: project.dir,
          ref,
          ...(b.params ? { params: b.params } : {}),
          ...(b.select ? { select: b.select } : {}),
        })
        const doc = {
          physical: planned.physical,
          warnings: planned.warnings.map((w) => w.toJSON()),
          createsNamespaces: planned.createsNamespaces,
        }
        return JSON.parse(scrub(JSON.stringify(doc))) as unknown
      } catch (e) {
        throw scrubError(e, scrub)
      } finally {
        await project.remove()
      }
    },
  )
}
