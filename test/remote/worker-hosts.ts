import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../helpers/build.js'

/** A `tarn worker` child process of the real CLI. */
export interface WorkerProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Everything it wrote to stderr so far. */
  stderr(): string
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>
}

/**
 * Starts `tarn worker` (from dist/) with `env` (catalog, warehouse, S3 endpoint, its own TARN_HOME) and `args`.
 * `prefix` runs it inside another command (e.g. `ip netns exec NS`).
 */
export function startWorker(
  env: Record<string, string>,
  args: readonly string[],
  prefix: readonly string[] = [],
): WorkerProcess {
  const command = [...prefix, process.execPath, join(ROOT, 'bin', 'tarn.js'), 'worker', ...args]
  const child = spawn(command[0] as string, command.slice(1), {
    env: { ...process.env, TARN_USER: 'tester', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  child.stdout?.resume()
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  return { child, pid: child.pid as number, stderr: () => err, exited }
}

/** Runs the real CLI (from dist/) to its end. */
export function tarnCli(
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tarn.js'), ...args], {
      env: { ...process.env, TARN_USER: 'tester', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

/** Submits the project in `dir` to the workers with `tarn run --remote --detach` and returns the run's job id. */
export async function submitDetached(
  env: Record<string, string>,
  dir: string,
  priority: string,
): Promise<{ code: number; stderr: string; job: string | undefined }> {
  const r = await tarnCli(env, ['run', '--remote', '--detach', '--json', '-p', dir, '--priority', priority])
  const job = r.code === 0 ? (JSON.parse(r.stdout) as { job: string }).job : undefined
  return { code: r.code, stderr: r.stderr, job }
}

/** One simulated host for a worker: the command prefix that runs in it and the addresses it reaches the services at. */
export interface WorkerHost {
  /** `ip netns exec NS` inside a network namespace, empty for a plain process. */
  readonly prefix: readonly string[]
  /** Maps a `host:port` of a service on the machine's loopback to the address the host reaches it at. */
  address(port: number): string
  close(): Promise<void>
}

/**
 * Makes `count` hosts as Linux network namespaces (`ip netns`, a veth pair each with its own address; a TCP relay
 * on the machine's side of each pair forwards to the services on loopback). Returns undefined when namespaces are
 * not permitted here (then the workers run as plain processes).
 */
export async function namespaceHosts(
  count: number,
  ports: readonly number[],
): Promise<WorkerHost[] | undefined> {
  const { spawnSync } = await import('node:child_process')
  const net = await import('node:net')
  const ip = (...args: string[]): boolean => spawnSync('ip', args, { stdio: 'ignore' }).status === 0
  const tag = `${process.pid % 100000}`
  const hosts: WorkerHost[] = []
  for (let i = 0; i < count; i++) {
    const ns = `tarnwk${tag}h${i}`
    const outer = `tw${tag}o${i}`
    const inner = `tw${tag}i${i}`
    const hostAddr = `10.231.${(process.pid % 200) + 1}.${4 * i + 1}`
    const nsAddr = `10.231.${(process.pid % 200) + 1}.${4 * i + 2}`
    const ok =
      ip('netns', 'add', ns) &&
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner) &&
      ip('link', 'set', inner, 'netns', ns) &&
      ip('addr', 'add', `${hostAddr}/30`, 'dev', outer) &&
      ip('link', 'set', outer, 'up') &&
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', inner) &&
      ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up') &&
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')
    if (!ok) {
      ip('netns', 'delete', ns)
      ip('link', 'delete', outer)
      for (const h of hosts) await h.close()
      return undefined
    }
    const relays = new Map<number, { server: import('node:net').Server; port: number }>()
    const open = new Set<import('node:net').Socket>()
    for (const port of ports) {
      const server = net.createServer((socket) => {
        const upstream = net.connect(port, '127.0.0.1')
        open.add(socket).add(upstream)
        socket.on('close', () => open.delete(socket))
        upstream.on('close', () => open.delete(upstream))
        socket.pipe(upstream).pipe(socket)
        socket.on('error', () => upstream.destroy())
        upstream.on('error', () => socket.destroy())
      })
      await new Promise<void>((resolve) => server.listen(0, hostAddr, resolve))
      relays.set(port, { server, port: (server.address() as import('node:net').AddressInfo).port })
    }
    hosts.push({
      prefix: ['ip', 'netns', 'exec', ns],
      address: (port) => `${hostAddr}:${relays.get(port)?.port}`,
      close: async () => {
        for (const c of open) c.destroy()
        for (const r of relays.values()) await new Promise((resolve) => r.server.close(resolve))
        ip('netns', 'delete', ns)
        ip('link', 'delete', outer)
      },
    })
  }
  return hosts
}
