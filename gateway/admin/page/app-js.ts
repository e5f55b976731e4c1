/**
 * The status page's script (`GET /app.js`): plain browser JavaScript, no framework, no build, no
 * external request. Every second it fetches `api/status` and `api/devices`, keeps the last
 * HISTORY samples in memory and redraws the tables and two inline-SVG line charts.
 *
 * Kept as a string (see index-html.ts). Rules for editing it: no backticks and no dollar-brace
 * sequences (this is a TS template literal), and set text only with textContent (device data is
 * untrusted input). A unit test parses it, the headless-Chromium test runs it.
 */
export const APP_JS = String.raw`(function () {
  'use strict';
  var POLL_MS = 1000;
  var HISTORY = 120; // samples kept for the charts: two minutes at one per second
  var STALE_DEVICE_MS = 5 * 60 * 1000;
  var SVG = 'http://www.w3.org/2000/svg';
  var history = { times: [], inRate: [], outRate: [], queue: {} };
  var lastOkMs = 0;
  var updates = 0;

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function fmtInt(n) { return Math.round(n).toLocaleString('en-US'); }

  function fmtRate(n) {
    if (n >= 100) return fmtInt(n);
    if (n >= 10) return n.toFixed(1);
    return n.toFixed(2).replace(/\.?0+$/, '') || '0';
  }

  function fmtBytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
  }

  function fmtAge(ms) {
    if (ms < 1000) return (ms / 1000).toFixed(1) + ' s';
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  function fmtData(data) {
    if (data && typeof data === 'object' && !Array.isArray(data)) {
      var parts = [];
      var simple = true;
      Object.keys(data).forEach(function (k) {
        var v = data[k];
        if (v !== null && typeof v === 'object') simple = false;
        else parts.push(k + ' ' + (typeof v === 'string' ? v : JSON.stringify(v)));
      });
      if (simple) return clip(parts.join(' · '), 160);
    }
    return clip(JSON.stringify(data), 160);
  }

  function clip(text, max) {
    text = String(text);
    return text.length > max ? text.slice(0, max - 1) + '…' : text;
  }

  function getJson(path) {
    return fetch(path, { cache: 'no-store', headers: { accept: 'application/json' } }).then(function (res) {
      if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
      return res.json();
    });
  }

  function fillTable(id, rows, columns, emptyText) {
    var body = $(id).tBodies[0];
    var fresh = document.createElement('tbody');
    if (rows.length === 0) {
      var tr = el('tr');
      var td = el('td', emptyText, 'empty');
      td.colSpan = columns;
      tr.appendChild(td);
      fresh.appendChild(tr);
    }
    rows.forEach(function (tr) { fresh.appendChild(tr); });
    body.parentNode.replaceChild(fresh, body);
  }

  function row(cells, attrs) {
    var tr = el('tr');
    cells.forEach(function (c) { tr.appendChild(c); });
    if (attrs) Object.keys(attrs).forEach(function (k) { tr.setAttribute(k, attrs[k]); });
    return tr;
  }

  function stateCell(level, text) {
    var td = el('td');
    td.appendChild(el('span', null, 'dot ' + level));
    td.appendChild(document.createTextNode(text));
    return td;
  }

  function remember(status) {
    history.times.push(status.timeMs);
    history.inRate.push(status.rates.inPerSec);
    history.outRate.push(status.rates.outPerSec);
    var n = history.times.length;
    status.uplinks.forEach(function (u) {
      var series = history.queue[u.id] || (history.queue[u.id] = []);
      while (series.length < n - 1) series.push(null); // an uplink that appeared later
      series.push(u.queue.depth);
    });
    Object.keys(history.queue).forEach(function (id) {
      var series = history.queue[id];
      if (series.length < n) series.push(null);
    });
    if (n > HISTORY) {
      history.times.shift();
      history.inRate.shift();
      history.outRate.shift();
      Object.keys(history.queue).forEach(function (id) { history.queue[id].shift(); });
    }
  }

  /** Draws line series into an SVG (viewBox 600 x 170): y from 0 to a rounded maximum. */
  function drawChart(svg, series) {
    var W = 600, H = 170, left = 46, right = 8, top = 8, bottom = 22;
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v > max) max = v; }); });
    max = niceMax(max);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    for (var i = 0; i <= 2; i++) {
      var y = top + ((H - top - bottom) * i) / 2;
      var line = document.createElementNS(SVG, 'line');
      line.setAttribute('x1', left); line.setAttribute('x2', W - right);
      line.setAttribute('y1', y); line.setAttribute('y2', y);
      line.setAttribute('class', 'grid');
      svg.appendChild(line);
      var mark = (max * (2 - i)) / 2;
      svg.appendChild(svgText(left - 6, y + 4, Number.isInteger(mark) ? fmtInt(mark) : fmtRate(mark), 'end'));
    }
    svg.appendChild(svgText(left, H - 5, '-' + Math.round(HISTORY * POLL_MS / 60000) + ' min', 'start'));
    svg.appendChild(svgText(W - right, H - 5, 'now', 'end'));
    var step = (W - left - right) / (HISTORY - 1);
    series.forEach(function (s) {
      var pts = [];
      var offset = HISTORY - s.values.length;
      s.values.forEach(function (v, i) {
        if (v === null) return;
        var x = left + (offset + i) * step;
        var y = top + (H - top - bottom) * (1 - v / max);
        pts.push(x.toFixed(1) + ',' + y.toFixed(1));
      });
      var poly = document.createElementNS(SVG, 'polyline');
      poly.setAttribute('points', pts.join(' '));
      poly.setAttribute('class', s.cls);
      poly.setAttribute('data-series', s.name);
      svg.appendChild(poly);
    });
  }

  function svgText(x, y, text, anchor) {
    var t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', x); t.setAttribute('y', y);
    t.setAttribute('text-anchor', anchor);
    t.setAttribute('class', 'axis');
    t.textContent = text;
    return t;
  }

  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function renderStatus(s) {
    $('gateway-id').textContent = s.gateway.id;
    document.title = 'edge-gateway ' + s.gateway.id + ': ' + s.health.status;
    var badge = $('health');
    badge.textContent = s.health.status;
    badge.className = 'badge ' + s.health.status;
    $('meta').textContent = 'v' + s.gateway.version + ' · up ' + fmtAge(s.gateway.uptimeMs);

    var problems = s.health.reasons.map(function (r) { return el('li', r, 'reason'); })
      .concat(s.health.warnings.map(function (w) { return el('li', w, 'warning'); }));
    var list = $('problem-list');
    while (list.firstChild) list.removeChild(list.firstChild);
    problems.forEach(function (li) { list.appendChild(li); });
    $('problems').hidden = problems.length === 0;

    var queued = 0, queuedBytes = 0;
    s.uplinks.forEach(function (u) { queued = Math.max(queued, u.queue.depth); queuedBytes = Math.max(queuedBytes, u.queue.bytes); });
    var dropped = Object.keys(s.drops).reduce(function (sum, k) { return sum + s.drops[k]; }, 0);
    $('rate-in').textContent = fmtRate(s.rates.inPerSec);
    $('rate-out').textContent = fmtRate(s.rates.outPerSec);
    $('total-in').textContent = fmtInt(s.totals.ingested) + ' stored';
    $('total-out').textContent = fmtInt(s.totals.forwarded) + ' confirmed';
    $('queued').textContent = fmtInt(queued);
    $('queued-bytes').textContent = fmtBytes(queuedBytes) + (s.pipeline.ingestPending ? ' · ' + fmtInt(s.pipeline.ingestPending) + ' in memory' : '');
    $('dropped').textContent = fmtInt(dropped);
    $('dead-letters').textContent = fmtInt(s.store.deadLetters) + ' dead letters';
    $('store-line').textContent = 'store: ' + fmtInt(s.store.entries) + ' entries, ' + fmtBytes(s.store.bytes) + ' of ' + fmtBytes(s.store.maxBytes) +
      (s.store.oldestAgeMs ? ', oldest ' + fmtAge(s.store.oldestAgeMs) : '');

    fillTable('uplinks', s.uplinks.map(function (u) {
      var state = u.connected ? stateCell('ok', 'connected') : stateCell('bad', 'disconnected ' + fmtAge(u.disconnectedForMs));
      return row([
        el('td', u.id), state,
        el('td', fmtInt(u.queue.depth), 'num'), el('td', fmtBytes(u.queue.bytes), 'num'),
        el('td', u.queue.depth ? fmtAge(u.queue.oldestAgeMs) : '–', 'num'), el('td', u.detail || ''),
      ], { 'data-uplink': u.id, 'data-connected': String(u.connected) });
    }), 6, 'no uplinks');

    fillTable('drops', Object.keys(s.drops).sort().map(function (reason) {
      return row([el('td', reason), el('td', fmtInt(s.drops[reason]), 'num')], { 'data-reason': reason });
    }), 2, 'no drops');

    fillTable('sources', s.sources.map(function (src) {
      var level = src.state === 'running' || src.state === 'done' ? 'ok' : src.state === 'starting' ? 'warn' : 'bad';
      return row([el('td', src.id), el('td', src.type), stateCell(level, src.state), el('td', src.detail || '')], { 'data-source': src.id });
    }), 4, 'no sources configured');

    remember(s);
    var ids = Object.keys(history.queue);
    var legend = $('queue-legend');
    while (legend.firstChild) legend.removeChild(legend.firstChild);
    drawChart($('chart-queue'), ids.map(function (id, i) {
      legend.appendChild(el('span', id, 'key s' + (i % 6)));
      return { name: id, cls: 's' + (i % 6), values: history.queue[id] };
    }));
    drawChart($('chart-rates'), [
      { name: 'in', cls: 's-in', values: history.inRate },
      { name: 'out', cls: 's-out', values: history.outRate },
    ]);
  }

  function renderDevices(d) {
    $('device-count').textContent = fmtInt(d.devices.length);
    $('device-sub').textContent = d.evicted ? fmtInt(d.evicted) + ' forgotten (max ' + fmtInt(d.max) + ')' : 'max ' + fmtInt(d.max);
    fillTable('devices', d.devices.map(function (dev) {
      var tr = row([
        el('td', dev.source), el('td', dev.deviceId), el('td', dev.kind), el('td', fmtData(dev.data), 'data'),
        el('td', fmtAge(dev.ageMs), 'num'), el('td', fmtInt(dev.readings), 'num'),
      ], { 'data-device': dev.source + '/' + dev.deviceId });
      if (dev.ageMs > STALE_DEVICE_MS) tr.className = 'stale';
      return tr;
    }), 6, 'no readings yet');
  }

  function setConnection(ok, error) {
    var conn = $('conn');
    if (ok) {
      lastOkMs = Date.now();
      conn.className = 'conn muted';
      conn.textContent = 'live · updated ' + new Date(lastOkMs).toLocaleTimeString();
      return;
    }
    conn.className = 'conn lost';
    conn.textContent = 'no answer from the gateway' + (lastOkMs ? ' since ' + new Date(lastOkMs).toLocaleTimeString() : '') + ' (' + error.message + '), retrying';
    var badge = $('health');
    badge.textContent = 'offline';
    badge.className = 'badge offline';
  }

  function tick() {
    Promise.all([getJson('api/status'), getJson('api/devices')])
      .then(function (both) {
        renderStatus(both[0]);
        renderDevices(both[1]);
        setConnection(true);
        updates++;
        document.body.setAttribute('data-updates', String(updates));
      })
      .catch(function (err) { setConnection(false, err); })
      .then(function () { setTimeout(tick, POLL_MS); });
  }

  tick();
})();
`
