/** The dashboard's stylesheet (the showcase's look), inlined so the page needs no other request. */
export const DASHBOARD_CSS = `
body { font: 15px/1.45 system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.4rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.1rem; margin-top: 1.5rem; }
h3 { font-size: 1rem; margin: 0.75rem 0 0.25rem; }
code, pre { background: #eef1f6; border-radius: 3px; }
code { padding: 0 0.25rem; }
pre { padding: 0.5rem; overflow-x: auto; font-size: 0.85rem; }
button { padding: 0.2rem 0.5rem; font: inherit; font-size: 0.85rem; cursor: pointer; }
.muted, #status { font-size: 0.85rem; color: #777; }
#status[data-state='error'] { color: #b3412a; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1.5rem; }
table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.3rem 0.4rem; border-bottom: 1px solid #e3e6ee; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td[data-field='error'] { overflow-wrap: anywhere; }
tr[data-alive='false'] td { color: #b3412a; }
tr[data-over-threshold] td { background: #fdf0e6; }
tr[data-this='true'] td { font-weight: 600; }
.badge { display: inline-block; padding: 0 0.4rem; border-radius: 3px; font-size: 0.75rem; font-weight: 600; }
.badge.alert { background: #b3412a; color: #ffffff; }
.badge.this { background: #dfe8f8; color: #2456b3; }
.badge.gone { background: #f3e1dc; color: #b3412a; }
.empty td { color: #777; font-style: italic; }
.panel { border: 1px solid #ccd; border-radius: 6px; padding: 0.5rem 0.75rem; background: #fafbfd; }
#chart svg { width: 100%; height: 170px; display: block; }
#chart .throughput { stroke: #2456b3; }
#chart .backlog { stroke: #d08a1e; }
#chart .legend { font-size: 0.85rem; }
#chart .legend span::before { content: '\\25A0  '; }
#chart .legend .throughput { color: #2456b3; }
#chart .legend .backlog { color: #d08a1e; }
section.dead-channel { margin-bottom: 1rem; }
`
