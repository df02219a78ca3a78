import { DASHBOARD_CSS } from './dashboard-style.js'
import { DASHBOARD_CANCEL_SCRIPT } from './dashboard-cancel-script.js'
import { DASHBOARD_SCHEDULES_SCRIPT } from './dashboard-schedules.js'
import { DASHBOARD_SCRIPT } from './dashboard-script.js'

/** The dashboard: static markup the inline script fills from `api/state`; `nonce` is the response's CSP nonce. */
export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Switchyard dashboard</title>
    <link rel="icon" href="data:," />
    <style nonce="${nonce}">${DASHBOARD_CSS}</style>
  </head>
  <body>
    <h1>Switchyard dashboard</h1>
    <p id="status" data-state="loading">Loading&hellip;</p>

    <h2>Throughput and backlog</h2>
    <div id="chart" class="panel"><p class="muted">No samples yet.</p></div>

    <h2>Channels</h2>
    <table id="channels">
      <thead><tr><th>Channel</th><th class="num">Backlog</th><th class="num">In flight</th><th class="num">Delayed</th><th class="num">Dead letters</th><th class="num">Rate (/s)</th></tr></thead>
      <tbody></tbody>
    </table>

    <h2>Workers</h2>
    <table id="workers">
      <thead><tr><th>Worker</th><th>Alive</th><th class="num">Heartbeat age</th><th class="num">Concurrency</th><th class="num">In flight</th><th class="num">Processed</th><th class="num">Failed</th><th class="num">Retried</th><th class="num">Dead</th></tr></thead>
      <tbody></tbody>
    </table>

    <div class="grid">
      <div>
        <h2>Groups</h2>
        <table id="groups">
          <thead><tr><th>Group</th><th class="num">Members</th><th>Per process</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <div>
        <h2>Connections</h2>
        <table id="connections">
          <thead><tr><th>Server</th><th class="num">WebSockets</th><th class="num">HTTP</th><th class="num">Accepted</th><th class="num">Rejected</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </div>

    <h2>Schedules</h2>
    <table id="schedules">
      <thead><tr><th>Schedule</th><th>Channel</th><th>Type</th><th>When</th><th>Next run</th><th>Last run</th><th></th></tr></thead>
      <tbody></tbody>
    </table>

    <h2>Dead letters</h2>
    <div id="dead-letters"></div>
    <pre id="dead-letter-detail" hidden></pre>

    <h2>Tasks</h2>
    <form id="cancel-task">
      <label for="cancel-task-id">Task id</label>
      <input id="cancel-task-id" name="taskId" required maxlength="1000" autocomplete="off" />
      <button type="submit">Cancel task</button>
    </form>

    <script nonce="${nonce}">${DASHBOARD_SCRIPT}${DASHBOARD_SCHEDULES_SCRIPT}${DASHBOARD_CANCEL_SCRIPT}</script>
  </body>
</html>
`
}

/** What a refused browser sees: 401 (no credential) or 421 (a loopback client's foreign `Host`). */
export function refusalPage(status: 401 | 421, reason: string): string {
  const title = status === 401 ? 'Unauthorized' : 'Misdirected Request'
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Switchyard dashboard: ${title}</title><link rel="icon" href="data:," /></head>
  <body>
    <h1>${title}</h1>
    <p>${escapeHtml(reason)}</p>
  </body>
</html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
