/** Messages between the runner and load-generator workers (load-worker.ts). */
import type { Wire } from '../systems/systems.js'
import type { IpcMessage } from './ipc.js'

export interface EchoConnect extends IpcMessage {
  readonly kind: 'echo.connect'
  readonly wire: Wire
  readonly url: string
  readonly connections: number
  readonly roundTrips: number
}

export interface EchoDone extends IpcMessage {
  readonly kind: 'echo.done'
  readonly latenciesMs: number[]
  readonly startAt: number
  readonly endAt: number
}

export interface FanoutConnect extends IpcMessage {
  readonly kind: 'fanout.connect'
  readonly wire: Wire
  readonly url: string
  readonly clients: number
  readonly messages: number
}

/** After the warm-up: count from zero again, `messages` broadcasts this time. */
export interface FanoutReset extends IpcMessage {
  readonly kind: 'fanout.reset'
  readonly messages: number
}

/** Sent after the publisher finished: the worker reports once every client has every message, or after `idleMs` of silence. */
export interface FanoutFinish extends IpcMessage {
  readonly kind: 'fanout.finish'
  readonly idleMs: number
}

export interface FanoutDone extends IpcMessage {
  readonly kind: 'fanout.done'
  /** Publish-to-receive latency of every first delivery. */
  readonly latenciesMs: number[]
  readonly received: number
  readonly lost: number
  readonly duplicated: number
  readonly lastReceiveAt: number
}

/** The payload every fan-out message carries, end to end. */
export interface FanoutPayload {
  readonly seq: number
  readonly sentAt: number
}
