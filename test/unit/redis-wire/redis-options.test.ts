import { describe, expect, it } from 'vitest'

import { InvalidOptionError } from '../../../src/errors.js'
import { resolveRedisOptions, type RedisLayerOptions } from '../../../src/layers/redis/redis-options.js'

const NODES = ['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379', 'redis://10.0.0.3:6379']

/** The InvalidOptionError resolving `options` throws (fails the test if it throws nothing or something else). */
function refusal(options: unknown): InvalidOptionError {
  try {
    resolveRedisOptions(options as RedisLayerOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError)
    return error as InvalidOptionError
  }
  throw new Error(`resolveRedisOptions accepted ${JSON.stringify(options)}`)
}

describe('resolveRedisOptions: cluster', () => {
  it('fills the defaults: 12 shards, no hosts, the same prefix and layer defaults as with hosts', () => {
    const options = resolveRedisOptions({ cluster: { nodes: NODES } })
    expect(options.cluster).toEqual({ nodes: NODES, shards: 12 })
    expect(options.hosts).toEqual([])
    expect(options).toMatchObject({ prefix: 'asgi', serializer: 'msgpack', retryWindowMs: 2_000, capacity: 100 })
    expect(Object.isFrozen(options.cluster)).toBe(true)
    expect(Object.isFrozen(options.cluster?.nodes)).toBe(true)
  })

  it('copies the nodes, so changing the array given later changes nothing', () => {
    const nodes = [...NODES]
    const options = resolveRedisOptions({ cluster: { nodes, shards: 3 } })
    nodes.push('redis://10.0.0.4:6379')
    expect(options.cluster).toEqual({ nodes: NODES, shards: 3 })
  })

  it('leaves cluster undefined with hosts', () => {
    const options = resolveRedisOptions({ hosts: ['redis://127.0.0.1:6379'] })
    expect(options.cluster).toBeUndefined()
    expect(options.hosts).toEqual(['redis://127.0.0.1:6379'])
  })

  it('accepts credentials, TLS and a trailing slash in node URLs, and 1 to 1024 shards', () => {
    const nodes = ['rediss://default:s3cret@cache.example.com:6380', 'redis://:pw@10.0.0.2:6379/']
    expect(resolveRedisOptions({ cluster: { nodes, shards: 1 } }).cluster).toEqual({ nodes, shards: 1 })
    expect(resolveRedisOptions({ cluster: { nodes, shards: 1024 } }).cluster?.shards).toBe(1024)
  })

  it('refuses cluster with hosts, naming `cluster`', () => {
    const error = refusal({ hosts: ['redis://127.0.0.1:6379'], cluster: { nodes: NODES } })
    expect(error.option).toBe('cluster')
    expect(error.message).toMatch(/^Expected `cluster` to be given without hosts/)
  })

  it('refuses a cluster that is not an object with a non-empty nodes array', () => {
    expect(refusal({ cluster: 'redis://10.0.0.1:6379' }).option).toBe('cluster')
    expect(refusal({ cluster: null }).option).toBe('cluster')
    expect(refusal({ cluster: {} }).option).toBe('cluster.nodes')
    expect(refusal({ cluster: { nodes: [] } }).option).toBe('cluster.nodes')
    expect(refusal({ cluster: { nodes: NODES[0] } }).option).toBe('cluster.nodes')
  })

  it.each([
    ['a host without a port', 'redis://10.0.0.1'],
    ['a database number (a cluster has only db 0)', 'redis://10.0.0.1:6379/0'],
    ['a unix socket', 'unix:///tmp/redis.sock'],
    ['a bare host:port', '10.0.0.1:6379'],
    ['not a string', { host: '10.0.0.1', port: 6379 }],
  ])('refuses %s as a node, naming its index', (_, node) => {
    expect(refusal({ cluster: { nodes: [node, NODES[1]] } }).option).toBe('cluster.nodes[0]')
    const second = refusal({ cluster: { nodes: [NODES[0], node] } })
    expect(second.option).toBe('cluster.nodes[1]')
    expect(second.message).toContain('Expected `cluster.nodes[1]` to be a redis://host:port URL')
  })

  it.each([0, 1025, 1.5, -1, '12'])('refuses %j shards, naming `cluster.shards`', (shards) => {
    const error = refusal({ cluster: { nodes: NODES, shards } })
    expect(error.option).toBe('cluster.shards')
  })

  it('says the most shards it takes', () => {
    expect(refusal({ cluster: { nodes: NODES, shards: 1025 } }).message).toBe(
      'Expected `cluster.shards` to be at most 1024, got 1025',
    )
  })
})
