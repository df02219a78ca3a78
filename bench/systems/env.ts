/** Reads a variable the runner sets for its child processes. */
export function requireEnv(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set; start this file through bench/run.ts`)
  return value
}
