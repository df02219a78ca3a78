// One-way dependencies between the parts of Switchyard (issue 15). Lower parts never import upper ones:
//
//   base (errors, logger, application, protocol, diagnostics, control, drop-reporter, describe-value)
//     ← layers, tasks            channel layers and their task stores know nothing of servers or consumers
//     ← routing, middleware, consumer-runtime
//     ← consumers                the classes users extend
//     ← server, worker           the processes that run consumers
//     ← monitoring               metrics, dashboard, backlog monitor: they listen (node:diagnostics_channel)
//     ← testing, cli, index      entry points; nothing imports the CLI
//
// client/ is the browser client: it stands alone, so that its bundle carries nothing of the server. The files
// outside it that it may import are protocol/close-codes.ts, the close-code table the server and consumers share
// (one table, not two that drift), and protocol/recovery-protocol.ts, the recovery protocol's names; they import
// nothing.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'base-stays-base',
      comment:
        'errors, logger, application, protocol and friends are imported by every part; they import none of them ' +
        'but the ChannelLayer interface a scope carries (a type with no imports of its own).',
      severity: 'error',
      from: {
        path: '^src/(errors|logger|application|diagnostics|control|drop-reporter|describe-value)\\.ts$|^src/protocol/',
      },
      to: {
        path: '^(src/(layers|tasks|routing|middleware|consumer-runtime|server|worker|monitoring|testing|cli|client)/|consumers/|src/index\\.ts)',
        pathNot: '^src/layers/channel-layer\\.ts$',
      },
    },
    {
      name: 'layers-know-no-runtime',
      comment:
        'A channel layer is usable alone (Django interop, scripts): it must not pull in servers, consumers or metrics.',
      severity: 'error',
      from: { path: '^src/(layers|tasks)/' },
      to: {
        path: '^(src/(routing|middleware|consumer-runtime|server|worker|monitoring|testing|cli|client)/|consumers/|src/index\\.ts)',
      },
    },
    {
      name: 'routing-below-consumers',
      severity: 'error',
      from: { path: '^src/(routing|middleware|consumer-runtime)/' },
      to: { path: '^(src/(server|worker|monitoring|testing|cli|client)/|consumers/|src/index\\.ts)' },
    },
    {
      name: 'consumers-below-processes',
      comment: 'Consumer classes run under any server, worker or communicator; they import none of them.',
      severity: 'error',
      from: { path: '^consumers/' },
      to: { path: '^src/(server|monitoring|testing|cli|client)/|^src/index\\.ts$' },
    },
    {
      name: 'server-and-worker-report-not-measure',
      comment: 'Servers and workers publish on node:diagnostics_channel; monitoring subscribes. They never import it.',
      severity: 'error',
      from: { path: '^src/(server|worker)/' },
      to: { path: '^src/(monitoring|testing|cli|client)/|^src/index\\.ts$' },
    },
    {
      name: 'monitoring-below-entries',
      severity: 'error',
      from: { path: '^src/monitoring/' },
      to: { path: '^src/(testing|cli)/|^src/index\\.ts$' },
    },
    {
      name: 'nothing-imports-the-cli',
      severity: 'error',
      from: { pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'client-stands-alone',
      comment:
        'The browser bundle must carry nothing of the server side; the close-code table and the recovery ' +
        'protocol are shared with it.',
      severity: 'error',
      from: { path: '^src/client/', pathNot: '^src/client/browser-bundle\\.ts$' },
      to: { path: '^(src/(?!client/)|consumers/)', pathNot: '^src/protocol/(close-codes|recovery-protocol)\\.ts$' },
    },
    {
      name: 'shared-protocol-imports-nothing',
      comment: 'The browser client imports these protocol files, so they import nothing (not even node:*).',
      severity: 'error',
      from: { path: '^src/protocol/(close-codes|recovery-protocol)\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.bundle\\.js$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
}
