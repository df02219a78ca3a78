/** docs/tutorial/part-4.md: the page's chat.test.ts, run with the command the page gives, on the app of parts 1-3. */
import { writeFile } from 'node:fs/promises'

import { describe, expect, it } from 'vitest'

import { spawnProcess } from '../support/spawned.js'
import { docBlock, docProject, shellCommands } from './doc-blocks.js'

describe('docs/tutorial/part-4.md', () => {
  it('shows the app files exactly as parts 1 and 3 do', () => {
    expect({
      app: docBlock('docs/tutorial/part-4.md', 'app.ts'),
      pages: docBlock('docs/tutorial/part-4.md', 'pages.ts'),
      layer: docBlock('docs/tutorial/part-4.md', 'layer.ts'),
      chat: docBlock('docs/tutorial/part-4.md', 'chat.ts'),
      tasks: docBlock('docs/tutorial/part-4.md', 'tasks.ts'),
    }).toEqual({
      app: docBlock('docs/tutorial/part-1.md', 'app.ts'),
      pages: docBlock('docs/tutorial/part-1.md', 'pages.ts'),
      layer: docBlock('docs/tutorial/part-3.md', 'layer.ts'),
      chat: docBlock('docs/tutorial/part-3.md', 'chat.ts'),
      tasks: docBlock('docs/tutorial/part-3.md', 'tasks.ts'),
    })
  })

  it('chat.test.ts passes its four tests with `node --import tsx --test chat.test.ts`', async () => {
    const project = await docProject('docs/tutorial/part-4.md', [
      'chat.test.ts',
      'app.ts',
      'pages.ts',
      'layer.ts',
      'chat.ts',
      'tasks.ts',
    ])
    await writeFile(project.path('room.html'), docBlock('docs/tutorial/part-1.md', 'room.html'))
    const [command] = shellCommands(docBlock('docs/tutorial/part-4.md', 'run-tests'))
    expect(command).toBe('node --import tsx --test chat.test.ts')
    const { REDIS_URL: _url, NODE_OPTIONS: _options, ...env } = process.env
    const run = spawnProcess(process.execPath, command!.split(' ').slice(1), { cwd: project.dir, env })
    try {
      const { code } = await run.exited
      const { stdout, stderr } = run.output()
      expect({ code, stderr, stdout }).toMatchObject({ code: 0, stderr: '' })
      expect(stdout).toMatch(/# pass 4\b/)
      expect(stdout).toMatch(/# fail 0\b/)
    } finally {
      run.kill()
    }
  }, 30_000)
})
