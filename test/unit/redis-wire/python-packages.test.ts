import { describe, expect, it } from 'vitest'

import { aptInstallCommand, planPythonPackages } from '../../setup/python-packages.js'

describe('planPythonPackages', () => {
  const packages = ['python3-msgpack', 'python3-cryptography']

  it('does nothing when the modules import', () => {
    expect(planPythonPackages({ packages, importsOk: true, isRoot: false })).toEqual({ kind: 'ready' })
  })

  it('installs with apt as root', () => {
    expect(planPythonPackages({ packages, importsOk: false, isRoot: true })).toEqual({
      kind: 'install',
      command: 'apt-get install -y python3-msgpack python3-cryptography',
    })
  })

  it('fails (never skips) without root, naming the exact command', () => {
    const plan = planPythonPackages({ packages, importsOk: false, isRoot: false })
    expect(plan.kind).toBe('fail')
    expect(plan.kind === 'fail' && plan.message).toContain(
      // A fresh machine has no package lists: the update is part of the advice.
      '`sudo apt-get update && sudo apt-get install -y python3-msgpack python3-cryptography`',
    )
    expect(aptInstallCommand(['python3-msgpack'])).toBe('apt-get install -y python3-msgpack')
  })
})
