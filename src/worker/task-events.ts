/** What a task event tells of an error: its message and code, never the task's payload nor the stack. */
export function failureFields(error: unknown): { readonly error: string; readonly code?: string } {
  if (!(error instanceof Error)) return { error: String(error) }
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? { error: error.message, code } : { error: error.message }
}
