/**
 * Seeded randomness for race, fuzz and torture tests, so a failing run can be replayed. Each test file takes one seed,
 * from `SWITCHYARD_TEST_SEED` when it is set (the replay) or else from the clock, and prints it once. Draw a stream
 * per test (`seededRandom(seed, 'test name')`): running one test alone with `-t` then draws what it drew in the full
 * file. Names and key prefixes that only need to be unique may stay truly random.
 */
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SEED_VARIABLE = 'SWITCHYARD_TEST_SEED'

/** A generator of numbers uniform in [0, 1), with the seed it started from. */
export interface SeededRandom {
  readonly seed: number
  /** Uniform in [0, 1), like `Math.random()`; a plain function, so it can be passed as a random source. */
  readonly next: () => number
  /** A uniform integer in [0, n), like `crypto.randomInt(n)`. */
  readonly int: (n: number) => number
}

/** mulberry32 (Tommy Ettinger): 32 bits of state, good enough for tests, the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** FNV-1a of `text`: turns a seed and a stream name into the seed of that stream. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** The seed `SWITCHYARD_TEST_SEED` holds, or undefined when unset; throws on anything but a 32-bit unsigned integer. */
export function parseSeed(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const seed = Number(value)
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new TypeError(`Expected \`${SEED_VARIABLE}\` to be an integer from 0 to 4294967295, got "${value}"`)
  }
  return seed
}

let fileSeed: number | undefined

/**
 * This test file's seed (pass `import.meta.url`): `SWITCHYARD_TEST_SEED`, else one from the clock. The first call prints it with the line that
 * replays it; later calls in the same file return the same seed. Vitest runs each file in its own module graph, so
 * each file gets (and prints) its own.
 */
export function testSeed(file: string): number {
  if (fileSeed === undefined) {
    fileSeed = parseSeed(process.env[SEED_VARIABLE]) ?? Number(process.hrtime.bigint() % 0x1_0000_0000n)
    const name = file.startsWith('file:') ? relative(process.cwd(), fileURLToPath(file)) : file
    console.log(`${name}: seed=${fileSeed} (replay with ${SEED_VARIABLE}=${fileSeed})`)
  }
  return fileSeed
}

/** A generator from `seed`, or from `seed` and a stream name so that each test draws its own sequence. */
export function seededRandom(seed: number, stream?: string): SeededRandom {
  const next = mulberry32(stream === undefined ? seed : hash32(`${seed}:${stream}`))
  return {
    seed,
    next,
    int: (n) => Math.floor(next() * n),
  }
}
