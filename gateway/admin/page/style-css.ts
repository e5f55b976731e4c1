/** Styles of the status page (`GET /style.css`); see index-html.ts for why it is a string. */
export const STYLE_CSS = `
:root {
  --bg: #f6f7f9; --fg: #1d2330; --muted: #6b7385; --card: #fff; --line: #dde1e8;
  --ok: #1f9d55; --warn: #d08700; --bad: #d6333b;
  --s0: #2f6fde; --s1: #9b4dca; --s2: #0f9d9a; --s3: #d9822b; --s4: #c2185b; --s5: #5d7a1f;
  --in: #2f6fde; --out: #1f9d55;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e6e9ef; --muted: #8d95a5; --card: #1d2128; --line: #2c323c; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 12px; padding: 12px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 18px 0 8px; }
main { padding: 4px 20px 20px; max-width: 1200px; }
footer { padding: 8px 20px 20px; }
a { color: inherit; }
.muted { color: var(--muted); }
.badge { padding: 2px 10px; border-radius: 10px; font-weight: 600; color: #fff; background: var(--muted); }
.badge.ok { background: var(--ok); }
.badge.degraded { background: var(--warn); }
.badge.unhealthy, .badge.offline { background: var(--bad); }
.conn.lost { color: var(--bad); font-weight: 600; }
.problems { margin-top: 12px; padding: 8px 14px; border-left: 4px solid var(--warn); background: var(--card); }
.problems ul { margin: 0; padding-left: 18px; }
.problems li.reason { color: var(--bad); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin-top: 14px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .value small { font-size: 12px; font-weight: 400; color: var(--muted); }
.tile .sub { color: var(--muted); font-size: 12px; min-height: 1.2em; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
tr:last-child td { border-bottom: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); font-style: italic; }
td.data { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; background: var(--muted); }
.dot.ok { background: var(--ok); } .dot.warn { background: var(--warn); } .dot.bad { background: var(--bad); }
tr.stale td { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 12px; margin-top: 16px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.chart { width: 100%; height: auto; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 11px; }
.chart polyline { fill: none; stroke-width: 2; stroke-linejoin: round; }
.legend { font-weight: 400; margin-left: 8px; }
.key { margin-right: 8px; }
.key::before { content: ""; display: inline-block; width: 10px; height: 3px; margin: 0 4px 3px 0; background: currentColor; }
.s-in { color: var(--in); stroke: var(--in); } .s-out { color: var(--out); stroke: var(--out); }
.s0 { color: var(--s0); stroke: var(--s0); } .s1 { color: var(--s1); stroke: var(--s1); } .s2 { color: var(--s2); stroke: var(--s2); }
.s3 { color: var(--s3); stroke: var(--s3); } .s4 { color: var(--s4); stroke: var(--s4); } .s5 { color: var(--s5); stroke: var(--s5); }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 12px; }
`
