/**
 * `scan --format html`: the migration dashboard, one self-contained page (no network: inline CSS, SVG
 * and a little plain JavaScript). Every number is in the HTML itself, readable without JavaScript; the
 * script only filters and sorts the table and turns the patches into downloads.
 *
 * A pure function of the scan, the conversion patches (`fix`'s, built by the caller) and the history.
 */
import type { SiteClass } from '../../analysis/convert/plan.js';
import type { ScanSite } from '../../analysis/scan/classify.js';
import type { HistoryPoint } from '../../analysis/scan/history.js';
import type { GroupTotal } from '../../analysis/scan/totals.js';
import type { TreeScan } from '../../analysis/scan/tree.js';

export interface HtmlReportOptions {
  /** The `fix` patch (mbox) of each file that has ready sites, by path. */
  patches?: ReadonlyMap<string, string>;
  /** Subsystem (MAINTAINERS entry, else directory) of a path; default the two-component directory. */
  subsystemOf?: (path: string) => string;
  history?: readonly HistoryPoint[];
  toolVersion?: string;
  /** The --baseline result's counts by class and API (from its sites), for the change column. */
  baselineCounts?: { byClass: Record<string, number>; byApi: Record<string, number> };
}

const CLASSES: readonly SiteClass[] = ['ready', 'needs-care', 'blocked'];
const COLOR: Record<SiteClass, string> = { ready: '#2da44e', 'needs-care': '#d4a72c', blocked: '#cf222e' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `\u2212${-n}` : '\u00b10';
}

function headline(scan: TreeScan, was?: HtmlReportOptions['baselineCounts']): string {
  const t = scan.totals;
  const b = scan.baseline;
  const addedBy = (f: (s: ScanSite) => boolean) => (b ? b.added.filter(f).length : 0);
  const head = `<tr><th></th><th>uses</th>${b && was ? '<th>baseline</th><th>change</th>' : ''}${b ? '<th>new since baseline</th>' : ''}</tr>`;
  const row = (label: string, n: number, added: number, before: number | undefined, cls = '') =>
    `<tr${cls ? ` class="c-${cls}"` : ''}><th scope="row">${escapeHtml(label)}</th><td class="num">${n}</td>${b && was ? `<td class="num">${before ?? 0}</td><td class="num change">${signed(n - (before ?? 0))}</td>` : ''}${b ? `<td class="num">${added ? `+${added}` : '0'}</td>` : ''}</tr>`;
  const byClass = CLASSES.map((c) => row(c, t.byClass[c], addedBy((s) => s.class === c), was?.byClass[c], c)).join('');
  const apiNames = new Set([...Object.keys(t.byApi), ...Object.keys(was?.byApi ?? {})]);
  const apis = [...apiNames].map((a) => [a, t.byApi[a] ?? 0] as const).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  const byApi = apis.map(([api, n]) => row(`${api}()`, n, addedBy((s) => s.api === api), was?.byApi[api])).join('');
  const trend = b ? `<p class="trend" id="baseline">Against the baseline: was <b>${b.was}</b>, now <b>${b.now}</b> (${signed(b.now - b.was)}): ${b.converted} converted or removed, <b>${b.added.length}</b> new, ${b.newErrors.length} new errors.</p>` : '';
  return `<section id="headline"><h2>Where the tree stands</h2>
<p class="big"><b id="total">${t.sites}</b> uses of kmap_atomic()/kmap() and their unmaps in ${scan.files.analysed} files: <b class="t-ready">${t.byClass.ready}</b> ready, <b class="t-needs-care">${t.byClass['needs-care']}</b> need care, <b class="t-blocked">${t.byClass.blocked}</b> blocked; ${scan.findings.length} findings on existing code.</p>${trend}
<div class="cols"><table class="counts" id="by-class"><caption>By class</caption>${head}${byClass}</table><table class="counts" id="by-api"><caption>By API</caption>${head}${byApi}</table></div></section>`;
}

/** A stacked bar of ready / needs-care / blocked, `width` pixels for `max` uses. */
function stackedBar(g: GroupTotal, max: number, width: number): string {
  let x = 0;
  const parts: string[] = [];
  for (const [c, n] of [['ready', g.ready], ['needs-care', g.needsCare], ['blocked', g.blocked]] as Array<[SiteClass, number]>) {
    if (!n) continue;
    const w = Math.max(1, (n / max) * width);
    parts.push(`<rect class="seg s-${c}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="14" fill="${COLOR[c]}"><title>${c}: ${n}</title></rect>`);
    x += w;
  }
  return `<svg class="bar" width="${width}" height="14" role="img" aria-label="${escapeHtml(g.name)}: ${g.ready} ready, ${g.needsCare} need care, ${g.blocked} blocked">${parts.join('')}</svg>`;
}

function groups(scan: TreeScan, subIndex: ReadonlyMap<string, number>): string {
  const t = scan.totals;
  const rows = t.bySubsystem ?? t.byDirectory;
  const what = t.bySubsystem ? 'MAINTAINERS entry' : 'directory';
  // What is left: the uses not yet converted, most first; blocked ones weigh most at a tie.
  const sorted = [...rows].sort((a, b) => b.total - a.total || b.blocked - a.blocked || a.name.localeCompare(b.name));
  const max = Math.max(1, ...sorted.map((g) => g.total));
  const body = sorted
    .map((g) => `<tr class="grp"><th scope="row"><a href="#sub=${subIndex.get(g.name)}" data-sub="${subIndex.get(g.name)}">${escapeHtml(g.name)}</a></th><td class="num">${g.total}</td><td class="num">${g.ready}</td><td class="num">${g.needsCare}</td><td class="num">${g.blocked}</td><td>${stackedBar(g, max, 260)}</td></tr>`)
    .join('\n');
  return `<section id="groups"><h2>By ${what} (${sorted.length})</h2><p class="legend">${CLASSES.map((c) => `<span class="key" style="background:${COLOR[c]}"></span>${c}`).join(' ')}</p>
<table class="groups"><thead><tr><th>${what}</th><th>left</th><th>ready</th><th>needs care</th><th>blocked</th><th></th></tr></thead><tbody>
${body}
</tbody></table></section>`;
}

/** The reason's first clause in the table (the whole text is the row's evidence). */
function short(reason: string): string {
  const cut = reason.search(/[:;.](\s|$)/);
  const head = cut > 20 && cut < 140 ? reason.slice(0, cut) : reason;
  return head.length > 140 ? `${head.slice(0, 139)}…` : head;
}

function sitesTable(scan: TreeScan, subOf: (p: string) => string, subIndex: ReadonlyMap<string, number>, patchIds: ReadonlyMap<string, number>): string {
  const subs = [...subIndex.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  const rows = scan.sites
    .map((s) => {
      const sub = subOf(s.path);
      const pid = s.class === 'ready' ? patchIds.get(s.path) : undefined;
      const action =
        s.class === 'ready'
          ? pid !== undefined
            ? `<a href="#patch-${pid}">view patch</a> <a class="dl" href="#patch-${pid}" data-patch="${pid}">download</a>`
            : '<span class="muted">no patch</span>'
          : `<details class="ev"><summary>evidence</summary>${escapeHtml(s.reason)}${s.rule ? ` <code>${escapeHtml(s.rule)}</code>` : ''}</details>`;
      return `<tr class="site c-${s.class}" data-class="${s.class}" data-sub="${subIndex.get(sub)}"><td><code>${escapeHtml(s.path)}:${s.line}</code></td><td>${s.function ? `<code>${escapeHtml(s.function)}</code>` : ''}</td><td><code>${escapeHtml(s.api)}</code></td><td>${s.class}</td><td>${escapeHtml(short(s.reason))}</td><td>${s.rule ? `<code>${escapeHtml(s.rule)}</code>` : ''}</td><td>${escapeHtml(sub)}</td><td class="act">${action}</td></tr>`;
    })
    .join('\n');
  return `<section id="sites"><h2>Every site (${scan.sites.length})</h2>
<form id="filters" class="filters" onsubmit="return false"><label>class <select id="f-class"><option value="">all</option>${CLASSES.map((c) => `<option>${c}</option>`).join('')}</select></label>
<label>subsystem <select id="f-sub"><option value="">all</option>${subs.map(([n, i]) => `<option value="${i}">${escapeHtml(n)}</option>`).join('')}</select></label>
<label>text <input id="f-text" type="search" placeholder="path, function, reason…"></label> <span id="shown">${scan.sites.length} shown</span></form>
<table class="sites" id="site-table"><thead><tr><th data-sort="text">location</th><th data-sort="text">function</th><th data-sort="text">API</th><th data-sort="text">class</th><th data-sort="text">reason</th><th data-sort="text">rule</th><th data-sort="text">subsystem</th><th></th></tr></thead><tbody>
${rows}
</tbody></table></section>`;
}

function patchesSection(patches: ReadonlyMap<string, string>, patchIds: ReadonlyMap<string, number>): string {
  if (!patchIds.size) return '';
  const items = [...patchIds.entries()].map(([path, id]) => `<details class="patch" id="patch-${id}" data-file="${escapeHtml(path.replace(/[^\w.-]+/g, '_'))}.patch"><summary><code>${escapeHtml(path)}</code> <a class="dl" href="#patch-${id}" data-patch="${id}">download</a></summary><pre>${escapeHtml(patches.get(path)!)}</pre></details>`);
  return `<section id="patches"><h2>Conversion patches (${patchIds.size} files)</h2><p>The patches <code>kmap-review fix</code> writes for the ready sites, verified by re-analysing the converted code; each applies with <code>git am</code> or <code>git apply</code> at the tree's root.</p>
${items.join('\n')}</section>`;
}

function findingsSection(scan: TreeScan): string {
  if (!scan.findings.length) return `<section id="findings"><h2>Existing-code findings</h2><p>None.</p></section>`;
  const items = scan.findings.map((f) => {
    const trace = f.trace.length ? `<ol class="trace">${f.trace.map((t) => `<li><code>${escapeHtml(t.path)}:${t.line}</code> ${escapeHtml(t.note)}</li>`).join('')}</ol>` : '';
    return `<li class="finding sev-${f.severity}"><code>${escapeHtml(f.path)}:${f.line}</code> <b>${f.severity}</b> <code>${escapeHtml(f.rule)}</code>${f.function ? ` in <code>${escapeHtml(f.function)}()</code>` : ''}: ${escapeHtml(f.message)}${f.detail ? `<div class="detail">${escapeHtml(f.detail)}</div>` : ''}${trace}</li>`;
  });
  return `<section id="findings"><h2>Existing-code findings (${scan.findings.length})</h2><ul class="findings">${items.join('\n')}</ul></section>`;
}

/** The label of a history point on the chart's axis: its tag, else the short commit id. */
export function pointLabel(p: HistoryPoint): string {
  return p.tag ?? p.commit.slice(0, 12);
}

/** Uses over time, stacked by class: one bar per point. */
export function trendChart(points: readonly HistoryPoint[]): string {
  if (!points.length) return '';
  const h = 180;
  const bw = Math.max(8, Math.min(40, Math.floor(720 / points.length) - 4));
  const step = bw + 4;
  const left = 44;
  const width = left + points.length * step + 70; // room for the last, slanted label
  const max = Math.max(1, ...points.map((p) => p.total));
  const bars = points.map((p, i) => {
    let y = h;
    const x = left + i * step;
    const segs = CLASSES.map((c) => {
      const n = p.byClass[c] ?? 0;
      const hh = (n / max) * (h - 10);
      y -= hh;
      return n ? `<rect class="seg s-${c}" x="${x}" y="${y.toFixed(1)}" width="${bw}" height="${hh.toFixed(1)}" fill="${COLOR[c]}"/>` : '';
    }).join('');
    const label = pointLabel(p);
    return `<g class="tbar"><title>${escapeHtml(label)} ${escapeHtml(p.date.slice(0, 10))} ${escapeHtml(p.subject)}: ${p.total} (${CLASSES.map((c) => `${c} ${p.byClass[c] ?? 0}`).join(', ')})</title>${segs}<text class="tlabel" x="${x + bw / 2}" y="${h + 12}" transform="rotate(45 ${x + bw / 2} ${h + 12})">${escapeHtml(label.slice(0, 14))}</text></g>`;
  });
  const axis = `<line x1="${left - 4}" y1="${h}" x2="${width}" y2="${h}" stroke="#888"/><text x="${left - 8}" y="14" text-anchor="end">${max}</text><text x="${left - 8}" y="${h}" text-anchor="end">0</text>`;
  const rows = points.map((p) => `<tr><td><code>${escapeHtml(pointLabel(p))}</code></td><td>${escapeHtml(p.date.slice(0, 10))}</td><td>${escapeHtml(p.subject)}</td><td class="num">${p.total}</td>${CLASSES.map((c) => `<td class="num">${p.byClass[c] ?? 0}</td>`).join('')}</tr>`);
  return `<section id="trend"><h2>Trend (${points.length} points)</h2><svg id="trend-chart" width="${width}" height="${h + 90}" role="img" aria-label="uses over time, stacked by class">${axis}${bars.join('')}</svg>
<details><summary>numbers</summary><table class="counts"><tr><th>commit</th><th>date</th><th>subject</th><th>total</th>${CLASSES.map((c) => `<th>${c}</th>`).join('')}</tr>${rows.join('')}</table></details></section>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:0 16px;color:#1f2328}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
.big{font-size:16px}.num{text-align:right;font-variant-numeric:tabular-nums}.cols{display:flex;gap:32px;flex-wrap:wrap}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}caption{text-align:left;font-weight:600}
table.sites{width:100%;font-size:13px}table.sites td,table.sites th{border-bottom:1px solid #eee}table.sites th[data-sort]{cursor:pointer;user-select:none}
tr.c-ready td:nth-child(4){color:#1a7f37}tr.c-needs-care td:nth-child(4){color:#9a6700}tr.c-blocked td:nth-child(4){color:#cf222e}
.t-ready{color:#1a7f37}.t-needs-care{color:#9a6700}.t-blocked{color:#cf222e}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}.filters{margin:8px 0;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px;max-height:480px}.muted{color:#777}.trace{margin:2px 0;font-size:12px}
.detail{color:#555;white-space:pre-wrap;font-size:12px}.tlabel{font-size:10px}code{font-size:12px}
.groups th a{text-decoration:none}tr.hidden{display:none}td.act{white-space:nowrap}summary{cursor:pointer}`;

/**
 * The page's script: filters (class, subsystem, text; also from #sub=N links), sorting by a column,
 * and patch downloads (a Blob of the patch's text).
 */
const SCRIPT = `(function(){
var rows=[].slice.call(document.querySelectorAll('#site-table tbody tr'));
var fc=document.getElementById('f-class'),fs=document.getElementById('f-sub'),ft=document.getElementById('f-text'),shown=document.getElementById('shown');
var text=rows.map(function(r){return r.textContent.toLowerCase();});
function apply(){var c=fc.value,s=fs.value,t=ft.value.toLowerCase().trim(),n=0;
rows.forEach(function(r,i){var ok=(!c||r.dataset.class===c)&&(!s||r.dataset.sub===s)&&(!t||text[i].indexOf(t)>=0);r.classList.toggle('hidden',!ok);if(ok)n++;});
shown.textContent=n+' shown';}
[fc,fs].forEach(function(e){e.addEventListener('change',apply);});ft.addEventListener('input',apply);
function fromHash(){var m=/^#sub=(\\d+)$/.exec(location.hash);if(m){fs.value=m[1];apply();document.getElementById('sites').scrollIntoView();}
var p=/^#(patch-\\d+)$/.exec(location.hash);if(p){var d=document.getElementById(p[1]);if(d){d.open=true;d.scrollIntoView();}}}
window.addEventListener('hashchange',fromHash);fromHash();
[].forEach.call(document.querySelectorAll('#site-table th[data-sort]'),function(th,col){var dir=1;th.addEventListener('click',function(){
var body=th.closest('table').tBodies[0];var key=function(r){return r.cells[col].textContent;};
var ord=rows.slice().sort(function(a,b){return dir*key(a).localeCompare(key(b),undefined,{numeric:true});});dir=-dir;ord.forEach(function(r){body.appendChild(r);});});});
document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a.dl');if(!a)return;e.preventDefault();
var d=document.getElementById('patch-'+a.dataset.patch);var blob=new Blob([d.querySelector('pre').textContent],{type:'text/x-diff'});
var u=URL.createObjectURL(blob),l=document.createElement('a');l.href=u;l.download=d.dataset.file;document.body.appendChild(l);l.click();l.remove();setTimeout(function(){URL.revokeObjectURL(u);},1000);});
})();`;

export function renderScanHtml(scan: TreeScan, options: HtmlReportOptions = {}): string {
  const subOf = options.subsystemOf ?? ((p: string) => p.split('/').slice(0, 2).join('/'));
  const names = [...new Set([...(scan.totals.bySubsystem ?? scan.totals.byDirectory).map((g) => g.name), ...scan.sites.map((s) => subOf(s.path))])].sort();
  const subIndex = new Map(names.map((n, i) => [n, i]));
  const patches = options.patches ?? new Map<string, string>();
  const patchIds = new Map<string, number>();
  for (const path of [...patches.keys()].sort()) if (patches.get(path)) patchIds.set(path, patchIds.size);
  const title = `kmap migration: ${scan.name}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>
<h1>${escapeHtml(title)}</h1><p class="muted">${scan.commit ? `commit <code>${escapeHtml(scan.commit)}</code> · ` : ''}${scan.files.listed} files listed, ${scan.files.analysed} analysed${scan.files.skipped.length ? `, ${scan.files.skipped.length} skipped` : ''} · engine ${escapeHtml(scan.engineVersion)}${options.toolVersion ? ` · kmap-review ${escapeHtml(options.toolVersion)}` : ''}</p>
${headline(scan, options.baselineCounts)}
${options.history?.length ? trendChart(options.history) : ''}
${groups(scan, subIndex)}
${sitesTable(scan, subOf, subIndex, patchIds)}
${findingsSection(scan)}
${patchesSection(patches, patchIds)}
<script>${SCRIPT}</script>
</body></html>
`;
}
