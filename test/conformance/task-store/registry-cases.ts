import { describe, expect } from 'vitest'

import { WORKER_FORGET_AFTER_MS, type ServerReport, type WorkerReport } from '../../../src/tasks/task-store.js'
import type { TaskStoreTestContext } from './context.js'

export function workerReport(fields: Partial<WorkerReport> = {}): WorkerReport {
  return {
    id: 'host-1:42:jobs',
    host: 'host-1',
    pid: 42,
    channel: 'jobs',
    concurrency: 4,
    inFlight: 1,
    processed: 5,
    failed: 1,
    retried: 1,
    dead: 0,
    startedAt: 1_700_000_000_000,
    renewalMs: 1_000,
    ...fields,
  }
}

export function serverReport(fields: Partial<ServerReport> = {}): ServerReport {
  return {
    id: 'host-1:42:8000',
    host: 'host-1',
    pid: 42,
    connections: 3,
    accepted: 4,
    rejected: 1,
    closedSlow: 0,
    droppedOutbound: 2,
    startedAt: 1_700_000_000_000,
    reportIntervalMs: 1_000,
    ...fields,
  }
}

/** ProcessRegistry: worker and server reports, liveness, forgetting. */
export function registryCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('process registry', () => {
    it('lists workers by id with their latest report, heartbeat age and liveness', async () => {
      const layer = await make()
      expect(await layer.tasks.listWorkers()).toEqual([])
      await layer.tasks.reportWorker(workerReport({ id: 'host-2:7:emails', channel: 'emails', processed: 1 }))
      await layer.tasks.reportWorker(workerReport())
      clock.advance(500)
      await layer.tasks.reportWorker(workerReport({ processed: 6 }))
      clock.advance(100)
      const { renewalMs: _renewalMs, ...fields } = workerReport({ processed: 6 })
      expect(await layer.tasks.listWorkers()).toEqual([
        { ...fields, heartbeatAgeMs: 100, alive: true },
        expect.objectContaining({ id: 'host-2:7:emails', processed: 1, heartbeatAgeMs: 600, alive: true }) as unknown,
      ])
    })

    it('a worker silent for three renewal periods is not alive, and gone after an hour', async () => {
      const layer = await make()
      await layer.tasks.reportWorker(workerReport({ renewalMs: 1_000 }))
      clock.advance(2_999)
      expect(await layer.tasks.listWorkers()).toMatchObject([{ alive: true, heartbeatAgeMs: 2_999 }])
      clock.advance(1)
      expect(await layer.tasks.listWorkers()).toMatchObject([{ alive: false, heartbeatAgeMs: 3_000 }])
      clock.advance(WORKER_FORGET_AFTER_MS - 3_000)
      expect(await layer.tasks.listWorkers()).toHaveLength(1)
      clock.advance(1)
      expect(await layer.tasks.listWorkers()).toEqual([])
    })

    it('forgetWorker removes one worker', async () => {
      const layer = await make()
      await layer.tasks.reportWorker(workerReport({ id: 'a:1:jobs' }))
      await layer.tasks.reportWorker(workerReport({ id: 'b:2:jobs' }))
      await layer.tasks.forgetWorker('a:1:jobs')
      await layer.tasks.forgetWorker('never-reported')
      expect((await layer.tasks.listWorkers()).map((worker) => worker.id)).toEqual(['b:2:jobs'])
    })

    it('lists servers by id with their latest report and liveness; forgetServer removes one', async () => {
      const layer = await make()
      await layer.tasks.reportServer(serverReport({ id: 'host-2:7:unlistened', connections: 0 }))
      await layer.tasks.reportServer(serverReport())
      clock.advance(3_000)
      await layer.tasks.reportServer(serverReport({ connections: 9 }))
      const { reportIntervalMs: _interval, ...fields } = serverReport({ connections: 9 })
      expect(await layer.tasks.listServers()).toEqual([
        { ...fields, heartbeatAgeMs: 0, alive: true },
        expect.objectContaining({ id: 'host-2:7:unlistened', heartbeatAgeMs: 3_000, alive: false }) as unknown,
      ])
      await layer.tasks.forgetServer('host-1:42:8000')
      expect((await layer.tasks.listServers()).map((server) => server.id)).toEqual(['host-2:7:unlistened'])
      clock.advance(WORKER_FORGET_AFTER_MS - 3_000 + 1)
      expect(await layer.tasks.listServers()).toEqual([])
    })
  })
}
