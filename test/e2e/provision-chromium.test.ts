import { describe, expect, it } from 'vitest'

import { CHROMIUM_INSTALL_COMMAND, DEBIAN_CHROMIUM, planChromium } from '../setup/chromium.js'

describe('planChromium', () => {
  it("uses Debian's Chromium when it is there, as root or not", () => {
    expect(planChromium({ present: true, isRoot: false })).toEqual({ kind: 'ready', path: DEBIAN_CHROMIUM })
    expect(planChromium({ present: true, isRoot: true })).toEqual({ kind: 'ready', path: '/usr/bin/chromium' })
  })

  it('installs it with apt when it is missing and we are root', () => {
    expect(planChromium({ present: false, isRoot: true })).toEqual({
      kind: 'install',
      command: CHROMIUM_INSTALL_COMMAND,
    })
    expect(CHROMIUM_INSTALL_COMMAND).toBe('apt-get install -y chromium')
  })

  it('fails, never skips, naming the exact commands when it is missing and we are not root', () => {
    const plan = planChromium({ present: false, isRoot: false })
    expect(plan.kind).toBe('fail')
    expect(plan.kind === 'fail' && plan.message).toContain('sudo apt-get update && sudo apt-get install -y chromium')
  })
})
