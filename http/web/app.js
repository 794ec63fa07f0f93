// whoknows web page: a small single-page app over the public JSON API
// (/v1/experts, /v1/people/{id}, /v1/people/{id}/connections, /v1/topics,
// and for role hr/admin the talent view: /v1/coverage, /v1/network).
// No framework, no CDN; every element is built with the DOM (no innerHTML
// with data). Routes live in the hash: #/?q=..., #/person/<id>, #/topics, #/talent.
'use strict';

const TOKEN_KEY = 'whoknows.token';
const $ = (id) => document.getElementById(id);

// h('a', {href: '#'}, 'text', child...) -> element
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// GET a JSON API path with the stored token; a 401 opens the token form.
async function api(path) {
  const headers = { 'Accept': 'application/json' };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const res = await fetch(path, { headers });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : res.statusText;
    if (res.status === 401) showTokenForm(token ? 'That token was not accepted.' : '');
    throw new ApiError(res.status, msg);
  }
  return body;
}

function showTokenForm(error) {
  $('token-form').hidden = false;
  $('token-button').hidden = false;
  $('token-error').textContent = error || '';
  $('token-input').focus();
}

const num = (x) => Number(x || 0);
function date(epoch) {
  const s = num(epoch);
  return s ? new Date(s * 1000).toISOString().slice(0, 10) : '';
}
const fmt = (x, d = 2) => num(x).toFixed(d);

// Link to the original record where the id names one (Stack Exchange posts).
function sourceUrl(ev) {
  const m = /^se:([^:]+):post:(\d+)$/.exec(ev.id || '');
  if (!m) return null;
  return `https://${m[1]}/${ev.kind === 'answer' ? 'a' : 'q'}/${m[2]}`;
}

function setStatus(text, isError) {
  const s = $('status');
  s.textContent = text || '';
  s.className = isError ? 'status error' : 'status';
}

function personLink(id, name) {
  return h('a', { href: '#/person/' + encodeURIComponent(id) }, name || id);
}

function bar(value, max) {
  const pct = max > 0 ? Math.max(2, Math.min(100, (100 * value) / max)) : 0;
  const fill = h('span');
  fill.style.width = `${pct.toFixed(0)}%`;  // CSSOM, allowed by the page's CSP (no inline style attributes)
  return h('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
}

function evidenceList(items) {
  return h('ul', { class: 'evidence', 'aria-label': 'Evidence' }, (items || []).map((ev) => {
    const url = sourceUrl(ev);
    const title = ev.title || ev.id;
    return h('li', { class: 'ev' },
      h('div', {}, url ? h('a', { class: 'title', href: url, rel: 'noreferrer noopener', target: '_blank' }, title)
                       : h('span', { class: 'title' }, title)),
      ev.snippet ? h('p', { class: 'snippet' }, ev.snippet) : null,
      h('div', { class: 'meta' }, [date(ev.timestamp), ev.kind, ev.role, ev.source].filter(Boolean).join(' · ')));
  }));
}

function expertCard(e, rank) {
  const comps = (e.components || []).filter((c) => !/_raw$/.test(c.name));
  return h('article', { class: 'card expert', 'data-person': e.personId },
    h('h2', {}, h('span', { class: 'rank' }, `${rank}.`), personLink(e.personId, e.name)),
    h('p', { class: 'reason' }, e.reason || ''),
    h('div', { class: 'components', 'aria-label': 'Score components' },
      h('span', { class: 'comp' }, h('strong', {}, 'score ' + fmt(e.score))),
      comps.map((c) => h('span', { class: 'comp', title: `${c.name} = ${fmt(c.value, 3)}` },
        c.name, bar(num(c.value), 1), fmt(c.value)))),
    (e.topics || []).length ? h('ul', { class: 'chips', 'aria-label': 'Topics' }, e.topics.map((t) => h('li', {}, t))) : null,
    h('div', { class: 'meta' }, e.lastActive ? 'last active ' + date(e.lastActive) : ''),
    evidenceList(e.evidence));
}

async function showSearch(q) {
  const view = $('view');
  view.replaceChildren();
  $('q').value = q || '';
  if (!q) { setStatus('Type a question: who knows about…?'); return; }
  setStatus('Searching…');
  const data = await api('/v1/experts?' + new URLSearchParams({ text: q, k: '10' }));
  const experts = data.experts || [];
  setStatus(experts.length ? `${experts.length} people, ${num(data.documentsMatched)} matching documents`
                           : 'Nobody found for that question.');
  view.append(h('section', { 'aria-label': 'Results', class: 'results' }, experts.map((e, i) => expertCard(e, i + 1))));
  view.dataset.query = q;  // rendered (tests wait on it)
}

function yearChart(activity) {
  const years = (activity || []).map((y) => ({ year: y.year, n: num(y.documents) }));
  if (!years.length) return h('p', { class: 'meta' }, 'No dated activity.');
  const max = Math.max(...years.map((y) => y.n));
  const w = 36, gap = 8, top = 14, height = 120;
  const width = years.length * (w + gap);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height + 30}`, width, height: height + 30, role: 'img',
    'aria-label': 'Documents per year: ' + years.map((y) => `${y.year}: ${y.n}`).join(', ') });
  years.forEach((y, i) => {
    const bh = max ? Math.max(1, (height - top) * y.n / max) : 0;
    const x = i * (w + gap);
    chart.appendChild(svg('rect', { x, y: height - bh, width: w, height: bh }, svg('title', {}, `${y.year}: ${y.n}`)));
    chart.appendChild(svg('text', { x: x + w / 2, y: height - bh - 3, 'text-anchor': 'middle' }, String(y.n)));
    chart.appendChild(svg('text', { x: x + w / 2, y: height + 14, 'text-anchor': 'middle' }, String(y.year)));
  });
  return chart;
}

// "answered 3, asked 1" from a TopicStrength's documents by role.
function topicRoles(t) {
  return (t.byRole || []).map((r) => `${r.name} ${num(r.count)}`).join(', ');
}

async function showPerson(id) {
  const view = $('view');
  view.replaceChildren();
  setStatus('Loading…');
  const path = '/v1/people/' + encodeURIComponent(id);
  const [p, conn] = await Promise.all([api(path), api(path + '/connections?k=5').catch(() => ({ connections: [] }))]);
  setStatus('');
  const topics = p.topics || [];
  const maxS = Math.max(0, ...topics.map((t) => num(t.strength)));
  view.append(
    h('article', { class: 'card person' },
      h('h2', {}, p.name || p.personId),
      h('div', { class: 'meta' }, `${num(p.documents)} documents · active ${date(p.firstActive)} – ${date(p.lastActive)}`
        + (p.optedOut ? ' · opted out of recommendations' : '')),
      (p.aliases || []).length ? h('div', { class: 'meta' }, 'also: ' + p.aliases.join(', ')) : null),
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'h-topics' }, h('h3', { id: 'h-topics' }, 'Topics'),
        topics.length ? h('div', { class: 'strength' }, topics.slice(0, 12).map((t) => [
          h('span', {}, t.topic), bar(num(t.strength), maxS),
          h('span', { class: 'meta', title: topicRoles(t) },
            `${num(t.documents)} docs` + (t.lastActive ? ` · last ${date(t.lastActive)}` : '')
            + (t.trend && t.trend !== 'steady' ? ` · ${t.trend}` : ''))]))
          : h('p', { class: 'meta' }, 'No topics.')),
      h('section', { class: 'card', 'aria-labelledby': 'h-activity' }, h('h3', { id: 'h-activity' }, 'Activity per year'),
        yearChart(p.activityByYear))),
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'h-contacts' }, h('h3', { id: 'h-contacts' }, 'Contacts'),
        (p.contacts || []).length ? h('ul', {}, p.contacts.slice(0, 10).map((c) =>
          h('li', {}, `${c.name} (${num(c.interactions)})`))) : h('p', { class: 'meta' }, 'No contacts.')),
      h('section', { class: 'card', 'aria-labelledby': 'h-connect' }, h('h3', { id: 'h-connect' }, 'Could connect with'),
        (conn.connections || []).length ? h('ul', { class: 'connections' }, conn.connections.map((c) =>
          h('li', {}, personLink(c.personId, c.name), h('div', { class: 'meta' }, c.reason || '')))) :
          h('p', { class: 'meta' }, 'No suggestions.'))),
    h('section', { class: 'card', 'aria-labelledby': 'h-docs' }, h('h3', { id: 'h-docs' }, 'Top documents'),
      evidenceList(p.topDocuments)));
  view.dataset.person = id;
}

// The community map comes from the server as an SVG document (include_svg);
// parsed as XML and imported as nodes (no innerHTML; scripts in parsed
// documents never run), any <script> or on* attribute dropped all the same.
function svgFromText(text) {
  const doc = new DOMParser().parseFromString(text || '', 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.nodeName !== 'svg') return h('p', { class: 'meta' }, 'No community map.');
  for (const el of root.querySelectorAll('script, foreignObject')) el.remove();
  for (const el of [root, ...root.querySelectorAll('*')]) {
    for (const a of [...el.attributes]) if (/^on/i.test(a.name) || /javascript:/i.test(a.value)) el.removeAttribute(a.name);
  }
  const el = document.importNode(root, true);
  el.setAttribute('class', 'community-map');
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', 'Community map: communities of the contact graph and the contacts between them');
  return el;
}

const expertNames = (list, n) => (list || []).slice(0, n).map((e) => `${e.name || e.personId} ${fmt(e.strength)}`).join(', ');

// Talent network (role hr or admin): skills inventory with bus factor,
// topics at risk, the community map, brokers and influencers.
async function showTalent() {
  const view = $('view');
  view.replaceChildren();
  setStatus('Loading the talent network…');
  const [cov, net] = await Promise.all([
    api('/v1/coverage?' + new URLSearchParams({ 'query.max_topics': '40' })),
    api('/v1/network?' + new URLSearchParams({ include_svg: 'true', 'query.top_k': '10' }))]);
  const topics = cov.topics || [];
  const byTopic = new Map(topics.map((t) => [t.topic, t]));
  setStatus(`${date(cov.window && cov.window.from)} – ${date(cov.window && cov.window.to)}: ` +
    `${num(cov.documents)} documents, ${num(cov.persons)} people, ${(cov.atRisk || []).length} topics at risk ` +
    '(bus factor ≤ 2)');
  const people = (list) => (list || []).length ? h('ol', {}, list.map((p) =>
    h('li', {}, personLink(p.personId, p.name), h('span', { class: 'meta' }, ` ${fmt(p.score, 3)}`)))) :
    h('p', { class: 'meta' }, 'Nobody.');
  view.append(
    h('section', { class: 'card', 'aria-labelledby': 'h-risk' }, h('h3', { id: 'h-risk' }, 'Topics at risk'),
      (cov.atRisk || []).length ? h('ul', { class: 'at-risk' }, cov.atRisk.map((name) => {
        const t = byTopic.get(name);
        return h('li', { 'data-topic': name }, h('strong', {}, name),
          t ? h('span', { class: 'meta' }, ` bus factor ${num(t.busFactor)}${t.busFactorExact ? '' : ' (greedy)'}, ` +
            `${num(t.units)} units` + ((t.busFactorPeople || []).length ? '; hangs on ' + t.busFactorPeople.join(', ') : ''))
            : null);
      })) : h('p', { class: 'meta' }, 'No topic at risk.')),
    h('section', { class: 'card', 'aria-labelledby': 'h-coverage' }, h('h3', { id: 'h-coverage' }, 'Skills coverage'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'coverage' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Topic'), h('th', { scope: 'col', class: 'num' }, 'Docs'),
          h('th', { scope: 'col', class: 'num' }, 'People'), h('th', { scope: 'col', class: 'num' }, 'Bus factor'),
          h('th', { scope: 'col' }, 'Active experts (strength)'), h('th', { scope: 'col' }, 'Left'))),
        h('tbody', {}, topics.map((t) => h('tr', { 'data-topic': t.topic, class: t.atRisk ? 'risk' : '' },
          h('th', { scope: 'row' }, h('a', { href: '#/?q=' + encodeURIComponent(t.topic) }, t.topic)),
          h('td', { class: 'num' }, String(num(t.documents))),
          h('td', { class: 'num' }, String(num(t.contributors))),
          h('td', { class: 'num' + (t.atRisk ? ' down' : '') }, String(num(t.busFactor)) + (t.atRisk ? ' !' : '')),
          h('td', {}, expertNames(t.experts, 3)),
          h('td', {}, (t.left || []).slice(0, 3).map((e) => e.name || e.personId).join(', ')))))))),
    h('section', { class: 'card', 'aria-labelledby': 'h-map' }, h('h3', { id: 'h-map' }, 'Community map'),
      h('p', { class: 'meta' }, `${(net.communities || []).length} communities shown of ${num(net.communitiesTotal)}, ` +
        `modularity ${fmt(net.modularity, 3)} (${net.communityMethod || '?'}); ${num(net.suppressedCommunities)} ` +
        'smaller ones suppressed'),
      svgFromText(net.communityMapSvg)),
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'h-brokers' },
        h('h3', { id: 'h-brokers' }, 'Brokers (betweenness)'), people(net.brokers)),
      h('section', { class: 'card', 'aria-labelledby': 'h-influencers' },
        h('h3', { id: 'h-influencers' }, 'Influencers (PageRank)'), people(net.influencers))));
  view.dataset.talent = 'shown';  // rendered (tests wait on it)
}

async function showTopics() {
  const view = $('view');
  view.replaceChildren();
  setStatus('Loading topics…');
  const data = await api('/v1/topics?limit=50');
  const topics = data.topics || [];
  setStatus(`${topics.length} topics, most documents first; trend = last 90 days of the corpus over the 90 before; `
    + 'top people by strength (role-weighted documents, recent ones count more)');
  const maxD = Math.max(0, ...topics.map((t) => num(t.documents)));
  view.append(h('div', { class: 'table-wrap' }, h('table', { class: 'topics' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Topic'), h('th', { scope: 'col', class: 'num' }, 'Documents'),
      h('th', { scope: 'col', class: 'num' }, 'Trend'), h('th', { scope: 'col' }, 'Top people'))),
    h('tbody', {}, topics.map((t) => {
      const tr = num(t.trend);
      return h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: '#/?q=' + encodeURIComponent(t.topic) }, t.topic)),
        h('td', { class: 'num' }, String(num(t.documents)), ' ', bar(num(t.documents), maxD)),
        h('td', { class: 'num ' + (tr > 1.05 ? 'up' : tr < 0.95 ? 'down' : ''), title: t.direction || '' },
          (tr > 1.05 ? '▲ ' : tr < 0.95 ? '▼ ' : '• ') + fmt(tr)),
        h('td', {}, (t.topPeople || []).slice(0, 3).map((p) => p.name).join(', ')));
    })))));
}

async function route() {
  delete $('view').dataset.query;
  delete $('view').dataset.person;
  delete $('view').dataset.error;
  delete $('view').dataset.talent;
  const hash = location.hash || '#/';
  const [path, query] = hash.slice(1).split('?');
  $('nav-search').toggleAttribute('aria-current', false);
  $('nav-topics').toggleAttribute('aria-current', false);
  $('nav-talent').toggleAttribute('aria-current', false);
  try {
    if (path.startsWith('/person/')) {
      await showPerson(decodeURIComponent(path.slice('/person/'.length)));
    } else if (path === '/topics') {
      $('nav-topics').setAttribute('aria-current', 'page');
      await showTopics();
    } else if (path === '/talent') {
      $('nav-talent').setAttribute('aria-current', 'page');
      await showTalent();
    } else {
      $('nav-search').setAttribute('aria-current', 'page');
      await showSearch(new URLSearchParams(query || '').get('q') || '');
    }
  } catch (e) {
    setStatus(e.status === 401 ? 'Enter an access token to continue.'
      : e.status === 403 && path === '/talent' ? `The talent view needs a token with role hr or admin (${e.message}).`
        : `Error: ${e.message}`, true);
    $('view').dataset.error = String(e.status || 'client');
  }
}

document.addEventListener('DOMContentLoaded', () => {
  if (localStorage.getItem(TOKEN_KEY)) $('token-button').hidden = false;
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('q').value.trim();
    const target = '#/?q=' + encodeURIComponent(q);
    if (location.hash === target) route(); else location.hash = target;
  });
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token-input').value.trim();
    if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
    $('token-input').value = '';
    $('token-input').blur();  // a hidden input keeps the focus until the next layout: "/" must work at once
    $('token-form').hidden = true;
    route();
  });
  $('token-button').addEventListener('click', () => showTokenForm(''));
  document.addEventListener('keydown', (ev) => {
    const typing = document.activeElement.tagName === 'INPUT' && document.activeElement.offsetParent !== null;
    if (ev.key === '/' && !typing) {
      ev.preventDefault();
      $('q').focus();
    }
  });
  window.addEventListener('hashchange', route);
  // Ask for a token up front when the server needs one and none is stored.
  if (!localStorage.getItem(TOKEN_KEY)) {
    fetch('/healthz').then((r) => r.json()).then((hz) => { if (hz.tokens) showTokenForm(''); }).catch(() => {});
  }
  route();
});
