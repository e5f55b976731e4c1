/**
 * The live status page (`GET /`), embedded as a string so it ships inside dist/ with the code that
 * serves it: no file lookup at run time, nothing for `npm pack` or a .deb to forget, no build step.
 * Script and styles are separate routes (`/app.js`, `/style.css`) so the page runs under a strict
 * Content-Security-Policy without 'unsafe-inline'. All dynamic text is set with textContent.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-gateway status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
  <h1>edge-gateway <span id="gateway-id">…</span></h1>
  <span id="health" class="badge">loading</span>
  <span id="meta" class="muted"></span>
  <span id="conn" class="conn muted">connecting…</span>
</header>
<main>
  <section id="problems" class="problems" hidden>
    <ul id="problem-list"></ul>
  </section>

  <section class="tiles">
    <div class="tile"><div class="label">in</div><div class="value"><span id="rate-in">–</span> <small>ev/s</small></div><div class="sub" id="total-in"></div></div>
    <div class="tile"><div class="label">out</div><div class="value"><span id="rate-out">–</span> <small>ev/s</small></div><div class="sub" id="total-out"></div></div>
    <div class="tile"><div class="label">queued</div><div class="value" id="queued">–</div><div class="sub" id="queued-bytes"></div></div>
    <div class="tile"><div class="label">dropped</div><div class="value" id="dropped">–</div><div class="sub" id="dead-letters"></div></div>
    <div class="tile"><div class="label">devices</div><div class="value" id="device-count">–</div><div class="sub" id="device-sub"></div></div>
  </section>

  <section>
    <h2>Uplinks</h2>
    <table id="uplinks">
      <thead><tr><th>uplink</th><th>state</th><th class="num">queued</th><th class="num">bytes</th><th class="num">oldest</th><th>detail</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section class="charts">
    <figure>
      <figcaption>Queue depth per uplink <span id="queue-legend" class="legend"></span></figcaption>
      <svg id="chart-queue" class="chart" viewBox="0 0 600 170" role="img" aria-label="queue depth over the last two minutes"></svg>
    </figure>
    <figure>
      <figcaption>Events per second <span class="legend"><span class="key s-in">in</span> <span class="key s-out">out</span></span></figcaption>
      <svg id="chart-rates" class="chart" viewBox="0 0 600 170" role="img" aria-label="in and out rates over the last two minutes"></svg>
    </figure>
  </section>

  <div class="columns">
    <section>
      <h2>Drops by reason</h2>
      <table id="drops">
        <thead><tr><th>reason</th><th class="num">events</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h2>Sources (driver health)</h2>
      <table id="sources">
        <thead><tr><th>source</th><th>type</th><th>state</th><th>detail</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </div>

  <section>
    <h2>Devices <span id="devices-note" class="muted"></span></h2>
    <table id="devices">
      <thead><tr><th>source</th><th>device</th><th>kind</th><th>last reading</th><th class="num">age</th><th class="num">readings</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<footer class="muted"><span id="store-line"></span> · <a href="metrics">metrics</a> · <a href="healthz">healthz</a></footer>
</body>
</html>
`
