/**
 * The dashboard's "Cancel a task" form, appended to DASHBOARD_SCRIPT in the same inline script (it uses that
 * script's `api`, `byId` and `setStatus`); posts to `api/tasks/cancel` (dashboard-task-api.ts).
 */
export const DASHBOARD_CANCEL_SCRIPT = String.raw`
byId('cancel-task').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = byId('cancel-task-id')
  const submit = event.target.querySelector('button')
  const taskId = input.value.trim()
  if (taskId === '' || !confirm('Cancel task ' + taskId + '?')) return
  submit.disabled = true
  api('tasks/cancel', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ taskId }),
  })
    .then((result) => {
      const text = result.cancelled
        ? 'Cancelled task ' + result.taskId + ' (was ' + result.before + ').'
        : 'Task ' + result.taskId + ' is ' + result.before + ': nothing to cancel.'
      setStatus(text, result.cancelled ? 'ok' : 'error')
      if (result.cancelled) input.value = ''
    })
    .catch((error) => setStatus('Could not cancel: ' + error.message, 'error'))
    .finally(() => (submit.disabled = false))
})
`
