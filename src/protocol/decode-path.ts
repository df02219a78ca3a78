/**
 * Percent-decodes a path like Python's `unquote`: a malformed escape (`%zz`, a lone `%`, or bytes that are not
 * UTF-8) stays as written instead of failing the request.
 */
export function decodePath(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run)
      } catch {
        return run
      }
    })
  }
}
