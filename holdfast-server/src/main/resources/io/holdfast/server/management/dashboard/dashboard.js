// Holdfast dashboard: reads the management API (RabbitMQ's paths and JSON fields) with the credentials given
// at login, kept in this tab's sessionStorage and sent as HTTP basic auth, as RabbitMQ's management UI does.
// Every page is redrawn from fresh API answers every few seconds (?refresh=N seconds, default 5). A field the
// broker does not report (message rates, per-consumer details) is shown as "–", never guessed.
'use strict';
(() => {
  const REFRESH_MS = Math.max(1, Number(new URLSearchParams(location.search).get('refresh')) || 5) * 1000;
  const CREDENTIALS = 'holdfast.authorization';
  const TAGS = 'holdfast.tags';
  const SAMPLES_MAX = 120;
  const $ = id => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** GET (or another method) /api/{path} as the logged-in user; the parsed JSON, or an ApiError. */
  async function api(path, { method = 'GET', accept = [] } = {}) {
    let response;
    try {
      response = await fetch('api/' + path, {
        method,
        cache: 'no-store',
        headers: { Authorization: sessionStorage.getItem(CREDENTIALS) || '', 'X-Requested-With': 'XMLHttpRequest' },
      });
    } catch (e) {
      throw new ApiError(0, `${method} /api/${path}: the broker did not answer (${e.message})`);
    }
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      body = null;
    }
    if (response.ok || accept.includes(response.status)) {
      return body;
    }
    const reason = body && (body.reason || body.error) || text || response.statusText;
    throw new ApiError(response.status, `${method} /api/${path}: ${response.status} ${reason}`);
  }

  /** The same, but null when the broker has no such endpoint or object (404): for what a broker may lack. */
  async function optional(path) {
    try {
      return await api(path);
    } catch (e) {
      if (e.status === 404) {
        return null;
      }
      throw e;
    }
  }

  /** An element; strings become text nodes (never markup), attributes starting with "on" become listeners. */
  function el(tag, attributes = {}, ...children) {
    const e = tag === 'svg' || tag === 'polyline' || tag === 'line' || tag === 'text'
      ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attributes)) {
      if (k.startsWith('on')) {
        e.addEventListener(k.slice(2), v);
      } else if (v !== undefined && v !== null && v !== false) {
        e.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children.flat()) {
      if (c !== undefined && c !== null) {
        e.append(c instanceof Node ? c : String(c));
      }
    }
    return e;
  }

  const ABSENT = '–';
  const count = v => (typeof v === 'number' ? String(v) : ABSENT);
  const rate = details => (details && typeof details.rate === 'number' ? details.rate.toFixed(1) + '/s' : ABSENT);
  const NOT_REPORTED = 'not reported by this broker';
  const field = (name, value, cls) => el('span', { 'data-field': name, class: cls,
    title: value === ABSENT ? NOT_REPORTED : null }, value);

  function card(label, name, value) {
    return el('div', { class: 'card' }, el('div', { class: 'label' }, label),
      el('div', { class: 'value' }, field(name, count(value))));
  }

  function table(headers, rows, empty) {
    if (rows.length === 0) {
      return el('p', { class: 'muted' }, empty);
    }
    return el('table', {}, el('thead', {}, el('tr', {}, headers.map(h => el('th', { class: h.num ? 'num' : null }, h.label)))),
      el('tbody', {}, rows));
  }

  const cell = (name, value, num) => el('td', { 'data-field': name, class: num ? 'num' : null,
    title: value === ABSENT ? NOT_REPORTED : null }, value);
  const queueHash = (vhost, name) => `#/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`;
  const path = (...segments) => segments.map(encodeURIComponent).join('/');

  // ---- overview --------------------------------------------------------------------------------------------

  async function overview() {
    const [o, health] = await Promise.all([api('overview'), api('health', { accept: [503] })]);
    const objects = o.object_totals || {};
    const totals = o.queue_totals || {};
    const stats = o.message_stats;
    return [
      el('section', {}, el('h2', {}, 'Totals'), el('div', { class: 'cards' },
        card('Messages', 'queue_totals.messages', totals.messages),
        card('Ready', 'queue_totals.messages_ready', totals.messages_ready),
        card('Unacked', 'queue_totals.messages_unacknowledged', totals.messages_unacknowledged),
        card('Connections', 'object_totals.connections', objects.connections),
        card('Channels', 'object_totals.channels', objects.channels),
        card('Queues', 'object_totals.queues', objects.queues),
        card('Exchanges', 'object_totals.exchanges', objects.exchanges),
        card('Consumers', 'object_totals.consumers', objects.consumers))),
      el('section', {}, el('h2', {}, 'Message rates'), stats
        ? el('div', { class: 'cards' }, [
          ['Published', 'publish_details'], ['Confirmed', 'confirm_details'], ['Delivered', 'deliver_get_details'],
          ['Redelivered', 'redeliver_details'], ['Acknowledged', 'ack_details']].map(([label, key]) =>
          el('div', { class: 'card' }, el('div', { class: 'label' }, label),
            el('div', { class: 'value' }, field('message_stats.' + key, rate(stats[key]))))))
        : el('p', { class: 'muted', 'data-field': 'message_stats' }, 'This broker does not report message rates.')),
      alarms(health),
      healthSection(health),
    ];
  }

  function alarms(health) {
    const raised = [];
    if (health.disk_alarm) {
      raised.push('disk: free disk space is below disk_free_limit; publishers are blocked');
    }
    if (health.memory_alarm) {
      raised.push('memory: the heap is above vm_memory_high_watermark; publishers are blocked');
    }
    return el('section', {}, el('h2', {}, 'Resource alarms'), raised.length
      ? el('ul', { 'data-field': 'alarms', class: 'bad' }, raised.map(a => el('li', {}, a)))
      : el('p', { 'data-field': 'alarms', class: 'ok' }, 'none'));
  }

  function healthSection(health) {
    const degraded = health.status !== 'ok';
    const damage = health.damage || [];
    const admin = (sessionStorage.getItem(TAGS) || '').split(',').includes('administrator');
    return el('section', {}, el('h2', {}, 'Health'),
      el('p', {}, 'Status: ', field('health.status', health.status, degraded ? 'bad' : 'ok'),
        health.acknowledged ? ' (damage acknowledged)' : ''),
      el('table', {}, el('tbody', {},
        el('tr', {}, el('th', {}, 'Corrupt journal records skipped at start'),
          cell('health.corrupt_records_skipped', count(health.corrupt_records_skipped), true)),
        el('tr', {}, el('th', {}, 'Torn tail bytes cut at start (normal after a crash)'),
          cell('health.torn_tail_bytes_truncated', count(health.torn_tail_bytes_truncated), true)),
        el('tr', {}, el('th', {}, 'Stored messages that did not read back (dropped)'),
          cell('health.unreadable_messages_dropped', count(health.unreadable_messages_dropped), true)))),
      damage.length ? el('ul', { class: 'damage', 'data-field': 'health.damage' }, damage.map(d => el('li', {}, d))) : null,
      degraded && admin ? el('p', {}, el('button', { id: 'acknowledge', type: 'button', onclick: acknowledge },
        'Acknowledge damage'), ' ', el('span', { class: 'muted' },
        'The messages in the damaged records are lost; acknowledging says an operator has seen it.')) : null,
      degraded && !admin ? el('p', { class: 'muted' }, 'An administrator can acknowledge the damage.') : null);
  }

  async function acknowledge(event) {
    event.target.disabled = true;
    try {
      await api('health/acknowledge', { method: 'POST' });
      await show();
    } catch (e) {
      report(e);
      event.target.disabled = false;
    }
  }

  // ---- queues ----------------------------------------------------------------------------------------------

  async function queues() {
    const list = await api('queues');
    const headers = [{ label: 'Name' }, { label: 'Vhost' }, { label: 'Type' }, { label: 'State' },
      { label: 'Ready', num: 1 }, { label: 'Unacked', num: 1 }, { label: 'Consumers', num: 1 },
      { label: 'Held', num: 1 }, { label: 'Incoming', num: 1 }, { label: 'Delivered', num: 1 }];
    const rows = list.map(q => el('tr', { 'data-queue': q.vhost + '/' + q.name },
      el('td', { 'data-field': 'name' }, el('a', { href: queueHash(q.vhost, q.name) }, q.name)),
      cell('vhost', q.vhost), cell('type', q.type || ABSENT), cell('state', q.state || ABSENT),
      cell('messages_ready', count(q.messages_ready), true),
      cell('messages_unacknowledged', count(q.messages_unacknowledged), true),
      cell('consumers', count(q.consumers), true), cell('messages_held', count(q.messages_held), true),
      cell('publish_rate', rate(q.message_stats && q.message_stats.publish_details), true),
      cell('deliver_rate', rate(q.message_stats && q.message_stats.deliver_get_details), true)));
    return el('section', {}, el('h2', {}, `Queues (${list.length})`), table(headers, rows, 'No queues.'));
  }

  let samples = { key: null, points: [] };

  async function queue(vhost, name) {
    const [q, quarantine, consumers] = await Promise.all([
      api('queues/' + path(vhost, name)),
      optional('holdfast/quarantine/' + path(vhost) + '?limit=0&queue=' + encodeURIComponent(name)),
      optional('consumers/' + path(vhost)),
    ]);
    const key = vhost + '/' + name;
    if (samples.key !== key) {
      samples = { key, points: [] };
    }
    samples.points.push({ at: Date.now(), ready: q.messages_ready || 0, unacked: q.messages_unacknowledged || 0 });
    samples.points = samples.points.slice(-SAMPLES_MAX);
    const facts = [
      ['Type', 'type', q.type], ['State', 'state', q.state], ['Durable', 'durable', q.durable],
      ['Auto-delete', 'auto_delete', q.auto_delete], ['Exclusive', 'exclusive', q.exclusive],
      ['Arguments', 'arguments', JSON.stringify(q.arguments || {})],
      ['Ready', 'messages_ready', count(q.messages_ready)],
      ['Unacked', 'messages_unacknowledged', count(q.messages_unacknowledged)],
      ['Total', 'messages', count(q.messages)], ['Consumers', 'consumers', count(q.consumers)],
      ['Held back (x-redelivery-backoff)', 'messages_held', count(q.messages_held)],
      ['Delayed', 'messages_delayed', count(q.messages_delayed)],
      ['Incoming', 'publish_rate', rate(q.message_stats && q.message_stats.publish_details)],
      ['Delivered', 'deliver_rate', rate(q.message_stats && q.message_stats.deliver_get_details)],
      ['Quarantined from this queue (in holdfast.quarantine)', 'quarantine',
        quarantine ? count(quarantine.messages_from_queue) : ABSENT],
    ];
    return [
      el('h2', {}, 'Queue ', el('span', { 'data-field': 'queue.name' }, name), el('span', { class: 'muted' }, ` in vhost ${vhost}`)),
      el('section', {}, el('h2', {}, 'Depth while this page is open'), chart(samples.points),
        el('p', { class: 'legend' }, el('span', { class: 'ready' }, '■ ready'), ' ', el('span', { class: 'unacked' }, '■ unacked'))),
      el('section', {}, el('table', { class: 'facts' }, el('tbody', {}, facts.map(([label, f, v]) =>
        el('tr', {}, el('th', {}, label), cell(f, v === undefined ? ABSENT : String(v))))))),
      el('section', {}, el('h2', {}, 'Consumers'), consumerTable(q, consumers)),
    ];
  }

  function consumerTable(q, all) {
    const list = Array.isArray(q.consumer_details) ? q.consumer_details
      : Array.isArray(all) ? all.filter(c => c.queue && c.queue.name === q.name) : null;
    if (!list) {
      return el('p', { class: 'muted', 'data-field': 'consumer_details' },
        `${count(q.consumers)} consumer(s); this broker does not list them one by one.`);
    }
    const headers = [{ label: 'Tag' }, { label: 'Channel' }, { label: 'Ack required' }, { label: 'Prefetch', num: 1 }];
    return table(headers, list.map(c => el('tr', {}, cell('consumer_tag', c.consumer_tag),
      cell('channel', c.channel_details ? c.channel_details.name : ABSENT),
      cell('ack_required', c.ack_required === undefined ? ABSENT : String(c.ack_required)),
      cell('prefetch_count', count(c.prefetch_count), true))), 'No consumers.');
  }

  /** Ready and unacked over the samples taken so far, as two lines on a shared scale. */
  function chart(points) {
    const w = 600;
    const h = 160;
    const top = Math.max(1, ...points.map(p => Math.max(p.ready, p.unacked)));
    const first = points[0].at;
    const span = Math.max(1, points[points.length - 1].at - first);
    const line = key => points.map(p => `${(40 + (p.at - first) / span * (w - 50)).toFixed(1)},`
      + `${(h - 20 - p[key] / top * (h - 30)).toFixed(1)}`).join(' ');
    return el('svg', { class: 'chart', viewBox: `0 0 ${w} ${h}`, 'data-samples': points.length, role: 'img',
      'aria-label': 'queue depth over time' },
      el('line', { x1: 40, y1: 10, x2: 40, y2: h - 20 }), el('line', { x1: 40, y1: h - 20, x2: w - 10, y2: h - 20 }),
      el('text', { x: 2, y: 14 }, String(top)), el('text', { x: 2, y: h - 20 }, '0'),
      el('text', { x: w - 10, y: h - 4, 'text-anchor': 'end' }, `${Math.round(span / 1000)} s`),
      el('polyline', { class: 'ready', points: line('ready') }),
      el('polyline', { class: 'unacked', points: line('unacked') }));
  }

  // ---- connections -----------------------------------------------------------------------------------------

  async function connections() {
    const list = await api('connections');
    const headers = [{ label: 'Name' }, { label: 'User' }, { label: 'Vhost' }, { label: 'Protocol' },
      { label: 'Channels', num: 1 }, { label: 'State' }];
    const rows = list.map(c => el('tr', { 'data-connection': c.name }, cell('name', c.name), cell('user', c.user),
      cell('vhost', c.vhost), cell('protocol', c.protocol || ABSENT), cell('channels', count(c.channels), true),
      cell('state', c.state || ABSENT)));
    return el('section', {}, el('h2', {}, `Connections (${list.length})`), table(headers, rows, 'No open connections.'));
  }

  // ---- login, routing, refresh -----------------------------------------------------------------------------

  const pages = [
    [/^#?\/?$/, overview, '#/'],
    [/^#\/queues$/, queues, '#/queues'],
    [/^#\/queues\/([^/]+)\/([^/]+)$/, queue, '#/queues'],
    [/^#\/connections$/, connections, '#/connections'],
  ];

  let timer = null;
  let generation = 0;

  function report(e) {
    $('error').textContent = e.message;
    $('error').hidden = false;
  }

  /** Draws the page the address names, from fresh answers, then schedules the next redraw. */
  async function show() {
    clearTimeout(timer);
    const mine = ++generation;
    const found = pages.find(([pattern]) => pattern.test(location.hash));
    if (!found) {
      report(new Error(`No page ${location.hash}; there are Overview, Queues and Connections.`));
      return;
    }
    const [pattern, page, nav] = found;
    document.querySelectorAll('nav a').forEach(a => a.classList.toggle('current', a.getAttribute('href') === nav));
    try {
      const args = pattern.exec(location.hash).slice(1).map(decodeURIComponent);
      const content = await page(...args);
      if (mine !== generation) {
        return; // the address changed while this page was being read
      }
      $('page').replaceChildren(...[content].flat());
      $('error').hidden = true;
      $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}; refreshing every ${REFRESH_MS / 1000} s.`;
    } catch (e) {
      if (mine !== generation) {
        return;
      }
      if (e.status === 401) {
        loggedOut(e.message);
        return;
      }
      report(e);
    }
    timer = setTimeout(show, REFRESH_MS);
  }

  function loggedOut(why) {
    clearTimeout(timer);
    generation++;
    sessionStorage.removeItem(CREDENTIALS);
    sessionStorage.removeItem(TAGS);
    $('nav').hidden = true;
    $('page').replaceChildren();
    $('updated').textContent = '';
    $('login').hidden = false;
    if (why) {
      report(new Error(why));
    } else {
      $('error').hidden = true;
    }
  }

  function loggedIn(user) {
    $('login').hidden = true;
    $('nav').hidden = false;
    $('who').textContent = `logged in as ${user.name}`;
    show();
  }

  function basic(user, password) {
    const bytes = new TextEncoder().encode(user + ':' + password);
    return 'Basic ' + btoa(Array.from(bytes, b => String.fromCharCode(b)).join(''));
  }

  async function logIn(event) {
    event.preventDefault();
    const form = event.target;
    sessionStorage.setItem(CREDENTIALS, basic(form.username.value, form.password.value));
    try {
      const user = await api('whoami');
      sessionStorage.setItem(TAGS, (user.tags || []).join(','));
      form.password.value = '';
      loggedIn(user);
    } catch (e) {
      loggedOut(e.status === 401 ? `Login failed: ${e.message}` : e.message);
    }
  }

  document.addEventListener('DOMContentLoaded', async () => {
    $('login').addEventListener('submit', logIn);
    $('logout').addEventListener('click', () => loggedOut());
    window.addEventListener('hashchange', () => show());
    if (!sessionStorage.getItem(CREDENTIALS)) {
      loggedOut();
      return;
    }
    try {
      loggedIn(await api('whoami'));
    } catch (e) {
      loggedOut(e.message);
    }
  });
})();
