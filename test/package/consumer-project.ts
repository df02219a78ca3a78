import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cp, mkdir, readdir, symlink, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

interface PackageJson {
  name: string
  version: string
  bin?: Record<string, string>
  engines?: Record<string, string>
  dependencies?: Record<string, string>
}

export const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Under `npm test`, npm exports its config as npm_* variables; nested npm runs must not inherit the repo's. */
export function envWithoutNpmConfig(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_'))
  return { ...Object.fromEntries(inherited), ...extra }
}

/** Resolves with the exit code instead of rejecting, so failing commands can be asserted on with their output. */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  { timeoutMs = 120_000, env = {} }: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: envWithoutNpmConfig(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`could not run ${command} ${args.join(' ')}: ${stderr}`, { cause: error }))
          return
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr })
      },
    )
  })
}

export async function mustRun(
  command: string,
  args: readonly string[],
  cwd: string,
  options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const result = await run(command, args, cwd, options)
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`)
  }
  return result
}

/** What `npm pack` builds the package from; the rest of the checkout stays out of the copy. */
const PACKAGE_SOURCES = ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'consumers']

/**
 * `npm pack` into `packDir`; returns the tarball's path. It packs a copy of the package's sources (node_modules
 * linked), so its `prepare` build never rewrites the checkout's dist/ while other tests run `npx switchyard` from
 * it, and the tarball comes from a clean build.
 */
export async function packTarball(packDir: string): Promise<string> {
  const sourceDir = join(packDir, 'source')
  await mkdir(sourceDir, { recursive: true })
  for (const entry of PACKAGE_SOURCES) {
    // The client bundle is a build output; leaving it out proves the build makes it.
    await cp(join(repoRoot, entry), join(sourceDir, entry), {
      recursive: true,
      filter: (source) => !source.endsWith('.bundle.js'),
    })
  }
  await symlink(join(repoRoot, 'node_modules'), join(sourceDir, 'node_modules'), 'dir')
  await mustRun('npm', ['pack', '--pack-destination', packDir], sourceDir)
  const tarballs = (await readdir(packDir)).filter((name) => name.endsWith('.tgz'))
  const expected = `${pkg.name}-${pkg.version}.tgz`
  if (tarballs.length !== 1 || tarballs[0] !== expected) {
    throw new Error(`npm pack made ${JSON.stringify(tarballs)}, expected [${expected}]`)
  }
  return join(packDir, expected)
}

interface LockEntry {
  version?: string
  resolved?: string
  dev?: boolean
  devOptional?: boolean
  optional?: boolean
  [field: string]: unknown
}

interface Lockfile {
  name?: string
  lockfileVersion: number
  requires?: boolean
  packages: Record<string, LockEntry>
}

/**
 * A package-lock.json for a project that depends on nothing but the packed tarball, holding exactly the versions of
 * the repo's own lockfile for every runtime dependency (dev-only entries left out). `npm ci` then installs what the
 * repo was tested with, so a new upstream release cannot turn an unchanged commit red.
 */
export function consumerLockfile(projectName: string, tarballSpec: string): Lockfile {
  const ours = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as Lockfile
  const packages: Record<string, LockEntry> = {
    '': { name: projectName, dependencies: { [pkg.name]: tarballSpec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: tarballSpec,
      dependencies: pkg.dependencies ?? {},
      ...(pkg.bin === undefined ? {} : { bin: pkg.bin }),
      ...(pkg.engines === undefined ? {} : { engines: pkg.engines }),
    },
  }
  for (const [path, entry] of Object.entries(ours.packages)) {
    if (path === '' || entry.dev === true) continue
    const { devOptional, ...rest } = entry
    packages[path] = devOptional === true ? { ...rest, optional: true } : rest
  }
  return { name: projectName, lockfileVersion: 3, requires: true, packages }
}

export type ModuleKind = 'commonjs' | 'module'

/**
 * A fresh project in `dir` made by `npm init -y` (npm 11 writes `"type": "commonjs"`), switched to `"type": "module"`
 * by `npm pkg set` when asked, with the packed tarball installed by `npm ci` from a lockfile pinned to the repo's
 * (see `consumerLockfile`).
 */
export async function makeConsumerProject(dir: string, tarball: string, type: ModuleKind): Promise<void> {
  await mkdir(dir, { recursive: true })
  await mustRun('npm', ['init', '-y'], dir)
  if (type === 'module') await mustRun('npm', ['pkg', 'set', 'type=module'], dir)
  const manifestPath = join(dir, 'package.json')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name: string; type?: string }
  if ((manifest.type ?? 'commonjs') !== type) {
    throw new Error(`npm init made a project of type ${JSON.stringify(manifest.type)}, expected ${type}`)
  }
  const tarballSpec = `file:${relative(dir, tarball)}`
  await writeFile(
    manifestPath,
    `${JSON.stringify({ ...manifest, dependencies: { [pkg.name]: tarballSpec } }, null, 2)}\n`,
  )
  const lockfile = consumerLockfile(manifest.name, tarballSpec)
  await writeFile(join(dir, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`)
  await mustRun('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], dir, { timeoutMs: 180_000 })
}
