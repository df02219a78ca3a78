/**
 * docs/reference/options.md against the code: each table lists exactly the properties its option interfaces
 * declare (read from the sources with TypeScript's parser), the static settings of the consumer classes, and the
 * defaults of the `DEFAULT_*` constants (and of the Redis layer's resolver, which has no constant).
 */
import { readFileSync } from 'node:fs'

import ts from 'typescript'
import { describe, expect, it } from 'vitest'

import { DEFAULT_RECONNECT_OPTIONS } from '../../src/client/index.js'
import {
  AsyncConsumer,
  DEFAULT_LAYER_OPTIONS,
  DEFAULT_RETRY,
  DEFAULT_SERVER_LIMITS,
  DEFAULT_TASK_STORE_OPTIONS,
  HttpConsumer,
  JsonWebsocketConsumer,
  RetryingConsumer,
  WebsocketConsumer,
} from '../../src/index.js'
import { resolveRedisOptions } from '../../src/layers/redis/redis-options.js'
import { DEFAULT_DASHBOARD_OPTIONS, DEFAULT_METRICS_OPTIONS } from '../../src/monitoring/index.js'
import { firstCodeSpan, readDoc, tableUnder, type TableRow } from '../support/markdown-tables.js'

const PAGE = 'docs/reference/options.md'

/**
 * Each table's heading, and the interfaces (`file#Name`) whose own properties it lists; `file#Name@option` lists an
 * option's nested properties as `option.property` (the name its errors give: `cluster.shards`).
 */
const TABLES: Readonly<Record<string, readonly string[]>> = {
  'Layer options': ['src/layers/layer-options.ts#LayerOptions'],
  'Task store options': ['src/tasks/task-store-options.ts#TaskStoreLayerOptions'],
  'Redis layer options': [
    'src/layers/redis/redis-options.ts#RedisLayerOptions',
    'src/layers/redis/redis-options.ts#RedisClusterOptions@cluster',
    'src/layers/redis/replica-wait.ts#ReplicaWaitOptions@waitForReplicas',
  ],
  'Layer method options': [
    'src/layers/channel-layer.ts#SendOptions',
    'src/layers/channel-layer.ts#ReceiveOptions',
    'src/layers/snapshot.ts#InspectOptions',
    'src/layers/snapshot.ts#PurgeOptions',
  ],
  'Server options': ['src/server/server-options.ts#SwitchyardOptions', 'src/server/server-options.ts#ServerLimits'],
  '`serve()` options': ['src/server/serve.ts#ServeOptions'],
  '`runWorker` options': ['src/worker/worker.ts#WorkerOptions'],
  '`schedule()` options': ['src/tasks/schedules/schedule-options.ts#ScheduleOptions'],
  '`chain()` and `chord()` options': ['src/tasks/flows/flow-types.ts#FlowOptions'],
  '`joinGroup` options': ['src/consumer-runtime/join-group.ts#JoinGroupOptions'],
  'Retry options': ['src/worker/retry-options.ts#RetryOptions'],
  Metrics: ['src/monitoring/metrics.ts#MetricsOptions', 'src/monitoring/metrics-plugin.ts#SwitchyardMetricsOptions'],
  Dashboard: ['src/monitoring/dashboard/dashboard-options.ts#DashboardOptions'],
  'Backlog monitor': ['src/monitoring/backlog-monitor.ts#BacklogMonitorOptions'],
  'Connect options': ['src/client/options.ts#ConnectOptions'],
  'Reconnect options': ['src/client/options.ts#ReconnectOptions'],
  '`AuthMiddleware`': ['src/middleware/auth.ts#AuthOptions'],
  '`bearerTokenAuth`': [
    'src/middleware/bearer-token-auth.ts#BearerTokenAuthOptions',
    'src/middleware/bearer-token-auth.ts#BearerTokenOptions',
  ],
  '`signedCookieAuth`': ['src/middleware/signed-cookie-auth.ts#SignedCookieAuthOptions'],
  '`setCookie`': ['src/middleware/cookies.ts#CookieOptions'],
  'Communicator options': [
    'src/testing/test-scopes.ts#TestScopeOptions',
    'src/testing/test-scopes.ts#WebsocketScopeOptions',
    'src/testing/http-communicator.ts#HttpCommunicatorOptions',
  ],
  Waiting: ['src/testing/layer-receive.ts#TimeoutOptions', 'src/testing/application-communicator.ts#StopOptions'],
}

/**
 * The names of the properties `file#Name` declares itself (not those of the interfaces it extends), each behind
 * `option.` for `file#Name@option`.
 */
function ownProperties(spec: string): string[] {
  const [target, nestedIn] = spec.split('@') as [string, string | undefined]
  const [file, name] = target.split('#') as [string, string]
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found = source.statements.find(
    (statement): statement is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(statement) && statement.name.text === name,
  )
  if (found === undefined) throw new Error(`${file} declares no interface ${name}`)
  return found.members.flatMap((member) =>
    member.name !== undefined && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))
      ? [nestedIn === undefined ? member.name.text : `${nestedIn}.${member.name.text}`]
      : [],
  )
}

const page = readDoc(PAGE)
const rowsUnder = (heading: string): TableRow[] => tableUnder(page, heading, PAGE)
/** The first column's name (`option` or `setting`) of each row. */
const namesIn = (rows: readonly TableRow[]): string[] =>
  rows.map((row) => firstCodeSpan(row.option ?? row.setting) ?? '(no name)')

/**
 * Whether a default cell says `value`: its first code span is the value as code (`60_000`, `'asgi'`, `true`,
 * `Infinity`, `[]`, `{}`, `Math.random`); "none" says undefined or an empty list.
 */
function describesValue(cell: string | undefined, value: unknown): boolean {
  const text = (cell ?? '').trim()
  const code = firstCodeSpan(text)
  if (value === undefined) return text.startsWith('none')
  if (Array.isArray(value) && value.length === 0) return text.startsWith('none') || code === '[]'
  if (code === undefined) return false
  if (typeof value === 'number') return Number(code.replaceAll('_', '')) === value
  if (typeof value === 'string') return code === `'${value}'`
  if (typeof value === 'boolean') return code === String(value)
  if (value === Math.random) return code === 'Math.random'
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return code === '{}'
  return false
}

/** `key: documented default` for every key of `defaults` whose table row does not describe its value. */
function wrongDefaults(heading: string, defaults: object): string[] {
  const rows = rowsUnder(heading)
  return Object.entries(defaults).flatMap(([key, value]) => {
    const row = rows.find((candidate) => firstCodeSpan(candidate.option ?? candidate.setting) === key)
    if (row === undefined) return [`${key}: no row`]
    return describesValue(row.default, value) ? [] : [`${key}: documented ${row.default ?? ''}, is ${String(value)}`]
  })
}

describe(PAGE, () => {
  it.each(Object.entries(TABLES))(
    'the table under "%s" lists exactly its interfaces\' properties',
    (heading, types) => {
      const declared = [...new Set(types.flatMap(ownProperties))].sort()
      expect(declared.length).toBeGreaterThan(0)
      expect(namesIn(rowsUnder(heading)).sort()).toEqual(declared)
    },
  )

  it('gives the defaults of every DEFAULT_* constant', () => {
    expect({
      layer: wrongDefaults('Layer options', DEFAULT_LAYER_OPTIONS),
      taskStore: wrongDefaults('Task store options', DEFAULT_TASK_STORE_OPTIONS),
      server: wrongDefaults('Server options', DEFAULT_SERVER_LIMITS),
      retry: wrongDefaults('Retry options', DEFAULT_RETRY),
      metrics: wrongDefaults('Metrics', DEFAULT_METRICS_OPTIONS),
      dashboard: wrongDefaults('Dashboard', DEFAULT_DASHBOARD_OPTIONS),
      reconnect: wrongDefaults('Reconnect options', DEFAULT_RECONNECT_OPTIONS),
    }).toEqual({ layer: [], taskStore: [], server: [], retry: [], metrics: [], dashboard: [], reconnect: [] })
  })

  it("gives the Redis layer's own defaults, as its resolver fills them in", () => {
    const resolved = resolveRedisOptions({ hosts: ['redis://127.0.0.1:6379'] })
    const own = ['cluster', 'prefix', 'symmetricEncryptionKeys', 'serializer', 'processQueueCapacity']
    const defaults = Object.fromEntries(
      [...own, 'heartbeatIntervalMs', 'staleAfterMs', 'retryWindowMs', 'waitForReplicas'].map((key) => [
        key,
        resolved[key as keyof typeof resolved],
      ]),
    )
    // The cluster's own default, filled in when only its nodes are given; the replica wait's, when only its replicas.
    const cluster = resolveRedisOptions({ cluster: { nodes: ['redis://127.0.0.1:7000'] } }).cluster
    const wait = resolveRedisOptions({ waitForReplicas: { replicas: 1 } }).waitForReplicas
    expect(
      wrongDefaults('Redis layer options', {
        ...defaults,
        'cluster.shards': cluster?.shards,
        'waitForReplicas.timeoutMs': wait?.timeoutMs,
      }),
    ).toEqual([])
  })

  it('lists every static setting of RetryingConsumer, with the defaults of the plain ones', () => {
    const statics = Object.getOwnPropertyNames(RetryingConsumer).filter(
      (name) => !['length', 'name', 'prototype'].includes(name),
    )
    const rows = rowsUnder('`RetryingConsumer` settings')
    expect(namesIn(rows).sort()).toEqual([...statics, 'concurrency'].sort())
    const settings = RetryingConsumer as unknown as Readonly<Record<string, unknown>>
    const plain = Object.fromEntries(
      [...statics, 'concurrency']
        .filter((name) => typeof settings[name] !== 'function' || settings[name] === Math.random)
        .map((name) => [name, settings[name]]),
    )
    expect(Object.keys(plain).length).toBeGreaterThanOrEqual(6)
    expect(wrongDefaults('`RetryingConsumer` settings', plain)).toEqual([])
  })

  it('lists the static settings of the other consumer classes, with their defaults', () => {
    const classes = [AsyncConsumer, WebsocketConsumer, JsonWebsocketConsumer, HttpConsumer]
    const settings = Object.fromEntries(
      classes.flatMap((type) =>
        Object.entries(type as unknown as Readonly<Record<string, unknown>>).filter(
          ([name, value]) => Object.hasOwn(type, name) && typeof value !== 'function',
        ),
      ),
    )
    expect(namesIn(rowsUnder('Consumer settings')).sort()).toEqual(Object.keys(settings).sort())
    expect(wrongDefaults('Consumer settings', settings)).toEqual([])
  })
})
