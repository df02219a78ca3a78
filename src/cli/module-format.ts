import { readFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'

/** How Node (and tsx) load a file: as an ES module or as CommonJS. */
export interface ModuleFormat {
  readonly kind: 'module' | 'commonjs'
  /** Why: the extension (`.mts`, `.cjs`...), or the nearest package.json and its `type`. */
  readonly reason: string
  /** The nearest package.json, if any: the file to change for `"type": "module"`. */
  readonly packageJson: string | undefined
}

/**
 * The format Node gives `path`: `.mjs`/`.mts` are ES modules and `.cjs`/`.cts` CommonJS whatever the project says;
 * any other file follows the `type` of the nearest package.json, and `npm init` writes `"type": "commonjs"`.
 */
export function moduleFormatOf(path: string): ModuleFormat {
  const extension = extname(path)
  const packageJson = nearestPackageJson(dirname(path))
  if (extension === '.mjs' || extension === '.mts') {
    return { kind: 'module', reason: `its extension is ${extension}`, packageJson: packageJson?.path }
  }
  if (extension === '.cjs' || extension === '.cts') {
    return { kind: 'commonjs', reason: `its extension is ${extension}`, packageJson: packageJson?.path }
  }
  if (packageJson === undefined) {
    return { kind: 'commonjs', reason: 'no package.json above it says "type": "module"', packageJson: undefined }
  }
  const kind = packageJson.type === 'module' ? 'module' : 'commonjs'
  const says = packageJson.type === undefined ? 'has no "type"' : `says "type": ${JSON.stringify(packageJson.type)}`
  return { kind, reason: `${packageJson.path} ${says}`, packageJson: packageJson.path }
}

/**
 * What to change when loading `path` failed because of its module format, or undefined when `error` is not such a
 * failure. CommonJS cannot wait at top level, and an ES module has no `require`; the fix is a `type` or an extension.
 */
export function moduleFormatHint(path: string, error: unknown): string | undefined {
  const format = moduleFormatOf(path)
  const text = describe(error)
  const renamed = renameTo(path, format.kind === 'commonjs' ? '.mts' : '.cts')
  if (format.kind === 'commonjs' && COMMONJS_FAILURES.some((pattern) => pattern.test(text))) {
    const where = format.packageJson ?? 'a package.json next to it'
    return (
      `${basename(path)} is loaded as CommonJS (${format.reason}), and CommonJS cannot use top-level await or ` +
      `load a module that does: set "type": "module" in ${where}, or rename the file to ${renamed}`
    )
  }
  if (format.kind === 'module' && ES_MODULE_FAILURES.some((pattern) => pattern.test(text))) {
    return (
      `${basename(path)} is loaded as an ES module (${format.reason}), where require, module.exports and ` +
      `__dirname do not exist: use import/export (and import.meta.dirname), or rename the file to ${renamed}`
    )
  }
  return undefined
}

const COMMONJS_FAILURES: readonly RegExp[] = [
  /ERR_REQUIRE_ASYNC_MODULE/,
  /ERR_REQUIRE_ESM/,
  /Top-level await is currently not supported with the "cjs" output format/,
  /await is only valid in async functions and the top level bodies of modules/,
  /Cannot use import statement outside a module/,
  /No "exports" main defined/,
]

const ES_MODULE_FAILURES: readonly RegExp[] = [
  /(require|module|exports|__dirname|__filename) is not defined in ES module scope/,
]

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  return `${typeof code === 'string' ? code : ''} ${error.name}: ${error.message}`
}

function renameTo(path: string, extension: string): string {
  const name = basename(path)
  const current = extname(name)
  return `${current === '' ? name : name.slice(0, -current.length)}${extension}`
}

function nearestPackageJson(start: string): { path: string; type: unknown } | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const path = join(dir, 'package.json')
    const type = readPackageType(path)
    if (type !== NOT_FOUND) return { path, type }
    if (dirname(dir) === dir) return undefined
  }
}

const NOT_FOUND = Symbol('no package.json')

function readPackageType(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return NOT_FOUND
  }
  try {
    return (JSON.parse(text) as { type?: unknown }).type
  } catch {
    return undefined // Node fails the import itself with its own error, which names the file
  }
}
