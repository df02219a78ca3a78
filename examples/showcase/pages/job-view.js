// What the progress and SSE pages share: rendering a job's events, and posting it. Each page only wires its own
// transport (a WebSocket through the client, or an EventSource) to these handlers.
const $ = (id) => document.getElementById(id)

export const newJobId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')

/** `onFinish` closes the page's transport once the job is over. */
export function createJobView({ onFinish }) {
  const bar = $('bar')
  const percentText = $('percent')
  const stateText = $('state')
  const attemptText = $('attempt')
  const retries = $('retries')
  const error = $('error')
  const status = $('status')
  let finished = false

  const showState = (state) => {
    stateText.textContent = state
    bar.dataset.state = state
  }
  const showProgress = (percent) => {
    bar.setAttribute('aria-valuenow', String(percent))
    bar.firstElementChild.style.width = `${percent}%`
    percentText.textContent = `${percent}%`
  }
  const finish = (state) => {
    finished = true
    if (state === 'succeeded') showProgress(100)
    showState(state)
    onFinish()
  }

  return {
    get finished() {
      return finished
    },
    showError: (text) => (error.textContent = text),
    showStatus(state) {
      status.textContent = state
      status.dataset.state = state
    },
    reset(jobId) {
      finished = false
      error.textContent = ''
      retries.replaceChildren()
      attemptText.textContent = '–'
      showProgress(0)
      showState('subscribing')
      $('job-id').textContent = jobId
    },
    progress(event) {
      if (finished) return
      showProgress(event.percent)
      attemptText.textContent = String(event.attempt)
      showState('running')
    },
    retrying(event) {
      const li = document.createElement('li')
      li.dataset.attempt = String(event.attempt)
      li.textContent = `attempt ${event.attempt} failed (${event.error}); retrying in ${event.delayMs} ms`
      retries.append(li)
      if (!finished) showState('retrying')
    },
    done: () => finish('succeeded'),
    failed(event) {
      error.textContent = `gave up after ${event.attempts} attempts: ${event.error}`
      finish('dead')
    },
    // Where the job stands whenever the transport (re)opens: catches up after a reconnect.
    state(event) {
      if (finished || event.status === 'unknown') return
      if (event.status === 'succeeded' || event.status === 'dead') finish(event.status)
      else showState(event.status)
    },
    async post(jobId) {
      try {
        const response = await fetch('/api/jobs/', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jobId, injectFailure: $('inject-failure').checked }),
        })
        const body = await response.json()
        if (!response.ok) {
          error.textContent = body.error ?? `HTTP ${response.status}`
          finish('error')
        } else if (!finished && stateText.textContent === 'subscribing') showState('queued')
      } catch (e) {
        error.textContent = String(e)
      }
    },
  }
}
