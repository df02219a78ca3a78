/**
 * The page's inline script, as plain browser JavaScript (no build step; the project's TypeScript has no DOM
 * types). It polls `api/state` every 2 s (`?refreshMs=` to change it, 100 at least), fills the tables by
 * `textContent` only (layer data is never parsed as HTML), derives each channel's rate from the workers' finished
 * counts between two polls, draws the chart from the server's history, and reloads a channel's dead letters only
 * when its count changes or after a replay or purge, so buttons are not swapped out under the pointer.
 */
export const DASHBOARD_SCRIPT = String.raw`
'use strict'
const params = new URLSearchParams(location.search)
const refreshMs = Math.max(100, Number(params.get('refreshMs')) || 2000)
const byId = (id) => document.getElementById(id)
const letters = new Map()
let previous = null
const rates = new Map()
let deadSignature = ''

function cell(text, options) {
  const td = document.createElement('td')
  td.textContent = String(text)
  if (options && options.num) td.className = 'num'
  if (options && options.field) td.dataset.field = options.field
  return td
}

function num(value, field) {
  return cell(value, { num: true, field: field })
}

function fill(tableId, rows, columns, emptyText) {
  const body = byId(tableId).tBodies[0]
  if (rows.length > 0) return body.replaceChildren(...rows)
  const tr = document.createElement('tr')
  tr.className = 'empty'
  const td = cell(emptyText)
  td.colSpan = columns
  tr.append(td)
  body.replaceChildren(tr)
}

function finishedByChannel(workers) {
  const totals = new Map()
  for (const worker of workers) {
    totals.set(worker.channel, (totals.get(worker.channel) || 0) + worker.processed + worker.dead)
  }
  return totals
}

function updateRates(snapshot) {
  const finished = finishedByChannel(snapshot.workers)
  if (previous !== null) {
    const seconds = (snapshot.takenAt - previous.at) / 1000
    if (seconds > 0) {
      for (const [channel, total] of finished) {
        const before = previous.finished.get(channel)
        if (before !== undefined) rates.set(channel, Math.max(0, total - before) / seconds)
      }
    }
  }
  previous = { at: snapshot.takenAt, finished: finished }
  return finished
}

function badge(text, className, title) {
  const span = document.createElement('span')
  span.className = 'badge ' + className
  span.textContent = text
  if (title) span.title = title
  return span
}

function renderChannels(snapshot, deadLetterChannels, backlog) {
  const finished = updateRates(snapshot)
  const alerts = new Map((backlog === null ? [] : backlog.alerts).map((alert) => [alert.channel, alert]))
  const channels = new Map(snapshot.channels.map((channel) => [channel.name, channel]))
  // A drained channel leaves the snapshot; keep those a worker serves or that hold dead letters on the table.
  for (const name of [...deadLetterChannels, ...finished.keys()]) {
    if (channels.has(name)) continue
    // Not in the snapshot (cut by its size limit) yet holding dead letters: their count is unknown here.
    const deadLetters = deadLetterChannels.includes(name) ? '?' : 0
    channels.set(name, { name: name, backlog: 0, inFlight: 0, delayed: 0, deadLetters: deadLetters })
  }
  const rows = [...channels.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((channel) => {
      const tr = document.createElement('tr')
      tr.dataset.channel = channel.name
      const rate = rates.get(channel.name)
      const name = cell(channel.name, { field: 'name' })
      const alert = alerts.get(channel.name)
      if (alert !== undefined) {
        // The monitor's latest check, as its log warning and the metrics report it.
        tr.dataset.overThreshold = String(alert.threshold)
        const title = 'Backlog ' + alert.backlog + ' over ' + alert.threshold + ' (' + alert.pattern + ') at the last check'
        name.append(' ', badge('over ' + alert.threshold, 'alert', title))
      }
      tr.append(
        name,
        num(channel.backlog, 'backlog'),
        num(channel.inFlight, 'in-flight'),
        num(channel.delayed, 'delayed'),
        num(channel.deadLetters, 'dead-letters'),
        num(rate === undefined ? (finished.has(channel.name) ? '0.0' : '-') : rate.toFixed(1), 'rate'),
      )
      return tr
    })
  fill('channels', rows, 6, 'No channels.')
}

function renderWorkers(workers) {
  const rows = workers.map((worker) => {
    const tr = document.createElement('tr')
    tr.dataset.worker = worker.id
    tr.dataset.channel = worker.channel
    tr.dataset.alive = String(worker.alive)
    tr.append(
      cell(worker.id, { field: 'id' }),
      cell(worker.alive ? 'yes' : 'no', { field: 'alive' }),
      num((worker.heartbeatAgeMs / 1000).toFixed(1) + ' s', 'heartbeat-age'),
      num(worker.concurrency, 'concurrency'),
      num(worker.inFlight, 'in-flight'),
      num(worker.processed, 'processed'),
      num(worker.failed, 'failed'),
      num(worker.retried, 'retried'),
      num(worker.dead, 'dead'),
    )
    return tr
  })
  fill('workers', rows, 9, 'No workers have reported.')
}

function renderGroups(groups) {
  const rows = groups.map((group) => {
    const tr = document.createElement('tr')
    tr.dataset.group = group.name
    const perProcess = group.byProcess.map((entry) => entry.process + ': ' + entry.members).join(', ')
    tr.append(cell(group.name, { field: 'name' }), num(group.members, 'members'), cell(perProcess, { field: 'by-process' }))
    return tr
  })
  fill('groups', rows, 3, 'No groups.')
}

function renderConnections(connections, servers) {
  // Every server that reported to the layer; this one with its live counts (the registry's are a few seconds old).
  const here = connections === null ? null : connections.server
  const list = servers.filter((server) => server.id !== here)
  if (connections !== null) {
    const stats = connections.stats
    list.push({
      id: here,
      connections: stats.connections,
      httpRequests: stats.httpRequests,
      accepted: stats.accepted,
      rejected: stats.rejected,
      alive: true,
      self: true,
    })
  }
  const rows = list
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((server) => {
      const tr = document.createElement('tr')
      tr.dataset.server = server.id
      tr.dataset.alive = String(server.alive)
      const name = cell(server.id, { field: 'server' })
      if (server.self) {
        tr.dataset.this = 'true'
        name.append(' ', badge('this server', 'this'))
      } else if (!server.alive) {
        name.append(' ', badge('no report for ' + (server.heartbeatAgeMs / 1000).toFixed(0) + ' s', 'gone'))
      }
      tr.append(
        name,
        num(server.connections, 'connections'),
        num(server.httpRequests === undefined ? '-' : server.httpRequests, 'http-requests'),
        num(server.accepted, 'accepted'),
        num(server.rejected, 'rejected'),
      )
      return tr
    })
  fill('connections', rows, 5, 'No server has reported, and the switchyard plugin is not registered on this one.')
}

const SVG = 'http://www.w3.org/2000/svg'
const WIDTH = 600
const HEIGHT = 160

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name)
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value))
  return element
}

function polyline(values, times, className) {
  const max = Math.max(1, ...values)
  const first = times[0]
  const span = Math.max(1, times[times.length - 1] - first)
  const points = values.map((value, i) => {
    const x = ((times[i] - first) / span) * WIDTH
    const y = HEIGHT - 4 - (value / max) * (HEIGHT - 8)
    return x.toFixed(1) + ',' + y.toFixed(1)
  })
  return { max: max, line: svg('polyline', { points: points.join(' '), fill: 'none', 'stroke-width': 2, class: className }) }
}

function renderChart(history) {
  const chart = byId('chart')
  chart.dataset.points = String(history.length)
  if (history.length < 2) {
    const note = document.createElement('p')
    note.className = 'muted'
    note.textContent = 'Collecting samples (' + history.length + ' so far).'
    return chart.replaceChildren(note)
  }
  const times = history.map((point) => point.at)
  const throughput = history.map((point, i) => {
    if (i === 0) return 0
    const before = history[i - 1]
    const seconds = (point.at - before.at) / 1000
    return seconds > 0 ? Math.max(0, point.processed - before.processed) / seconds : 0
  })
  throughput[0] = throughput[1]
  const backlog = history.map((point) => point.backlog)
  const a = polyline(throughput, times, 'throughput')
  const b = polyline(backlog, times, 'backlog')
  const picture = svg('svg', { viewBox: '0 0 ' + WIDTH + ' ' + HEIGHT, preserveAspectRatio: 'none', role: 'img' })
  picture.append(svg('rect', { x: 0, y: 0, width: WIDTH, height: HEIGHT, fill: '#ffffff' }), a.line, b.line)
  const legend = document.createElement('p')
  legend.className = 'legend'
  const spanSeconds = (times[times.length - 1] - times[0]) / 1000
  const span = spanSeconds < 120 ? Math.round(spanSeconds) + ' s' : Math.round(spanSeconds / 60) + ' min'
  const t = document.createElement('span')
  t.className = 'throughput'
  t.textContent = 'Throughput (finished tasks/s, peak ' + a.max.toFixed(1) + ')'
  const k = document.createElement('span')
  k.className = 'backlog'
  k.textContent = 'Backlog (peak ' + b.max + ')'
  legend.append(t, '  ', k, '  over the last ' + span)
  chart.replaceChildren(picture, legend)
}

function api(path, init) {
  return fetch('api/' + path, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, init)).then(
    async (response) => {
      const body = await response.json().catch(() => ({}))
      if (!response.ok) throw new Error(body.message || 'HTTP ' + response.status)
      return body
    },
  )
}

async function renderDeadLetters(snapshot, deadLetterChannels, force) {
  const counts = new Map()
  for (const channel of snapshot ? snapshot.channels : []) if (channel.deadLetters > 0) counts.set(channel.name, channel.deadLetters)
  for (const name of deadLetterChannels) if (!counts.has(name)) counts.set(name, -1)
  const names = [...counts.keys()].sort().slice(0, 20)
  const signature = names.map((name) => name + '=' + counts.get(name)).join('&')
  if (!force && signature === deadSignature) return
  const lists = await Promise.all(names.map((name) => api('dead-letters/' + encodeURIComponent(name))))
  deadSignature = signature
  letters.clear()
  const sections = lists
    .filter((list) => list.deadLetters.length > 0)
    .map((list) => deadLetterSection(list.channel, list.deadLetters))
  if (sections.length === 0) {
    const none = document.createElement('p')
    none.className = 'muted'
    none.textContent = 'No dead letters.'
    sections.push(none)
  }
  byId('dead-letters').replaceChildren(...sections)
}

function button(label, action, channel, id) {
  const element = document.createElement('button')
  element.type = 'button'
  element.textContent = label
  element.dataset.action = action
  element.dataset.channel = channel
  if (id !== undefined) element.dataset.id = id
  return element
}

function deadLetterSection(channel, list) {
  const section = document.createElement('section')
  section.className = 'dead-channel'
  section.dataset.channel = channel
  const title = document.createElement('h3')
  const count = document.createElement('span')
  count.className = 'muted'
  count.dataset.field = 'count'
  count.textContent = ' (' + list.length + ') '
  title.append(channel, count, button('Replay all', 'replay', channel), ' ', button('Purge all', 'purge', channel))
  const table = document.createElement('table')
  const head = table.createTHead().insertRow()
  for (const name of ['Died', 'Type', 'Attempts', 'Error', '']) {
    const th = document.createElement('th')
    th.textContent = name
    head.append(th)
  }
  const body = table.createTBody()
  for (const letter of list) {
    letters.set(channel + '\n' + letter.id, letter)
    const tr = document.createElement('tr')
    tr.dataset.channel = channel
    tr.dataset.id = letter.id
    const actions = document.createElement('td')
    actions.append(button('Inspect', 'inspect', channel, letter.id), ' ', button('Replay', 'replay', channel, letter.id))
    tr.append(
      cell(new Date(letter.diedAt).toLocaleTimeString(), { field: 'died-at' }),
      cell(letter.message.type, { field: 'type' }),
      num(letter.attempts, 'attempts'),
      cell(letter.error, { field: 'error' }),
      actions,
    )
    body.append(tr)
  }
  section.append(title, table)
  return section
}

function setStatus(text, state) {
  const status = byId('status')
  status.textContent = text
  status.dataset.state = state
}

async function refresh(force) {
  const state = await api('state')
  const snapshot = state.snapshot
  if (snapshot !== null) {
    renderChannels(snapshot, state.deadLetterChannels, state.backlog)
    renderWorkers(snapshot.workers)
    renderGroups(snapshot.groups)
  }
  renderConnections(state.connections, snapshot === null ? [] : snapshot.servers || [])
  renderChart(state.history)
  renderSchedules(state.schedules)
  await renderDeadLetters(snapshot, state.deadLetterChannels, force)
  const stats = snapshot === null ? null : snapshot.stats
  setStatus(
    snapshot === null
      ? 'This channel layer cannot be inspected; only connections and dead letters are shown.'
      : 'Updated ' + new Date(snapshot.takenAt).toLocaleTimeString() + '; this layer sent ' + stats.sent +
          ' and received ' + stats.received + ' messages. Refreshing every ' + refreshMs / 1000 + ' s.',
    'ok',
  )
}

async function act(target) {
  const channel = target.dataset.channel
  const id = target.dataset.id
  const action = target.dataset.action
  const detail = byId('dead-letter-detail')
  if (action === 'inspect') {
    const letter = letters.get(channel + '\n' + id)
    detail.textContent = JSON.stringify(letter, null, 2)
    detail.hidden = false
    return
  }
  const what = id === undefined ? 'every dead letter of ' + channel : 'dead letter ' + id + ' of ' + channel
  const question = action === 'replay' ? 'Replay ' + what + '?' : 'Purge ' + what + '? This cannot be undone.'
  if (!confirm(question)) return
  const body = action === 'replay' ? (id === undefined ? {} : { ids: [id] }) : {}
  const result = await api('dead-letters/' + encodeURIComponent(channel) + '/' + action, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  detail.hidden = true
  setStatus(action === 'replay' ? 'Replayed ' + result.replayed + '.' : 'Purged ' + result.purged + '.', 'ok')
  await refresh(true)
}

byId('dead-letters').addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('button[data-action]') : null
  if (target === null) return
  target.disabled = true
  act(target)
    .catch((error) => setStatus('Could not ' + target.dataset.action + ': ' + error.message, 'error'))
    .finally(() => (target.disabled = false))
})

async function tick() {
  try {
    await refresh(false)
  } catch (error) {
    setStatus('Could not refresh: ' + error.message, 'error')
  }
  setTimeout(tick, refreshMs)
}

tick()
`
