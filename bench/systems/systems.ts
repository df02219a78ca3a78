/** The systems under test: how to start each one's server. */
export type SystemName = 'switchyard' | 'ws'

export interface SystemUnderTest {
  readonly name: SystemName
  /** Shown in the table. */
  readonly label: string
  readonly serverScript: URL
}

export const SYSTEMS: Readonly<Record<SystemName, SystemUnderTest>> = {
  switchyard: {
    name: 'switchyard',
    label: 'Switchyard (Redis layer)',
    serverScript: new URL('switchyard-server.ts', import.meta.url),
  },
  ws: { name: 'ws', label: 'bare ws + Redis pub/sub', serverScript: new URL('ws-server.ts', import.meta.url) },
}

export const PUBLISHER_SCRIPT = new URL('publisher.ts', import.meta.url)
