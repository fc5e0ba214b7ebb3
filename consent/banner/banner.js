/* Privacy Portal consent banner. No dependencies; talks to no host but the portal it came from. */
/* The portal serves this function expression called with the website's configuration, one JSON value. */
(C => {
const T = C.s, d = document, w = window, N = 'necessary', K = 'pp_consent';
if (w.PrivacyPortal) return;
const sc = d.currentScript || d.querySelector('script[src*="/consent/' + C.k + '/banner.js"]'), B = sc ? new URL(sc.src, location.href).origin : location.origin;
// Google Consent Mode v2: the default goes first, before anything else this script does.
function gtag() { (w.dataLayer = w.dataLayer || []).push(arguments); }
const G = v => v ? 'granted' : 'denied';
const cm = c => ({ad_storage: G(c.targeting), ad_user_data: G(c.targeting), ad_personalization: G(c.targeting),
  analytics_storage: G(c.performance), functionality_storage: G(c.features), personalization_storage: G(c.features),
  security_storage: 'granted'});
gtag('consent', 'default', Object.assign(cm({}), {wait_for_update: 500}));

const nav = navigator, gpc = nav.globalPrivacyControl === true;
let L = (d.documentElement.lang || '').slice(0, 2).toLowerCase();
if (!T[L]) L = (nav.languages || [nav.language]).map(x => (x || '').slice(0, 2).toLowerCase()).find(x => T[x]) || C.l;
const S = T[L] || T.en, pk = o => o[L] || o.en || '';
const esc = s => String(s).replace(/[&<>"]/g, c => '&#' + c.charCodeAt(0) + ';');
const keys = C.c.map(x => x[0]), all = v => { const o = {}; keys.forEach(k => o[k] = !!v || k == N); return o; };
const any = c => keys.some(k => k != N && c[k]);

const read = () => { try { const m = d.cookie.match(/(?:^|; )pp_consent=([^;]*)/); return m && JSON.parse(decodeURIComponent(m[1])); } catch (e) { return null; } };
let st = read(), cur = null;
// Ask again when the revision changed or the choice is older than its lifetime.
if (st && st.r == C.r && st.c && Date.now() - st.t < (any(st.c) ? C.a : C.f) * 864e5) cur = st;

const uid = () => crypto.randomUUID ? crypto.randomUUID() : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, c => (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16));

// Prior blocking: run scripts and load frames/images of accepted categories, without a reload.
const apply = c => keys.forEach(k => {
  if (!c[k]) return;
  d.querySelectorAll('script[type="text/plain"][data-category="' + k + '"]').forEach(o => {
    const n = d.createElement('script');
    for (const a of o.attributes) if (a.name != 'type') n.setAttribute(a.name, a.value);
    if (o.dataset.src) n.src = o.dataset.src;
    n.text = o.text;
    o.replaceWith(n);
  });
  d.querySelectorAll('[data-category="' + k + '"][data-src]').forEach(e => { e.src = e.dataset.src; e.removeAttribute('data-src'); });
});

// Withdrawal: delete the category's declared first-party cookies on this domain and its parent, on
// every path from here up to the root (a cookie set without a path belongs to the page's folder).
const drop = k => {
  const cat = C.c.find(x => x[0] == k), h = location.hostname, doms = ['', h, h.replace(/^[^.]+/, '')];
  const ps = location.pathname.split('/').slice(0, -1).map((x, i, a) => a.slice(0, i + 1).join('/') || '/');
  d.cookie.split('; ').forEach(p => {
    const n = p.split('=')[0];
    if (cat[3].some(x => { try { return x[3] ? new RegExp(x[0]).test(n) : x[0] == n; } catch (e) { return false; } }))
      doms.forEach(o => ps.forEach(q => d.cookie = n + '=;path=' + q + ';max-age=0' + (o ? ';domain=' + o : '')));
  });
};

// Whatever the next paint does not need runs after it, so a click costs one frame. The timer covers
// hidden tabs, where animation frames do not come.
const later = f => { let done = 0; const go = () => { if (!done) { done = 1; f(); } }; requestAnimationFrame(() => setTimeout(go)); setTimeout(go, 250); };

// Outbox: each choice is kept in this browser until the portal has it, and sent again later on this page
// (with backoff) or on the next page view, so an outage of the portal loses no proof. A retried record
// keeps its consent id; before sending it again, the portal is asked whether the first try got through.
const QK = 'pp_outbox_' + C.k, API = B + '/api/consent/' + C.k;
let mem = [], tries = 0, plan = 0;
const out = () => { try { return JSON.parse(localStorage.getItem(QK)) || []; } catch (e) { return mem; } };
const keep = a => { mem = a; try { a.length ? localStorage.setItem(QK, JSON.stringify(a)) : localStorage.removeItem(QK); } catch (e) { /* memory only */ } };
const same = (o, b) => o && o.revision == b.revision && o.method == b.method && Object.keys(b.choices).every(k => o.choices[k] === b.choices[k]);
const flush = () => {
  const now = Date.now(), a = out().filter(x => now - x.t < 2592e6), e = a.find(x => !(now - x.l < 3e4));
  if (!e) { keep(a); return; }
  // A lease, so that two tabs of the same site do not send one record twice.
  e.l = now; e.n = (e.n || 0) + 1;
  keep(a);
  const sent = e.n > 1 ? fetch(API + '/consents/' + e.b.consent_id).then(x => x.ok && x.json()).then(o => same(o, e.b) && Date.parse(o.created_at) > e.t - 6e5) : Promise.resolve(false);
  sent.catch(() => false).then(ok => ok || fetch(API + '/records', {method: 'POST', keepalive: true, headers: {'Content-Type': 'application/json'}, body: JSON.stringify(e.b)})
    // A refusal of the record itself (4xx) will not change on a retry; an outage (5xx, 429, no answer) may.
    .then(x => x.status < 500 && x.status != 429, () => false)).then(ok => {
    const b = out(), x = b.find(y => y.q == e.q);
    if (ok) { keep(b.filter(y => y != x)); tries = 0; flush(); return; }
    if (x) { x.l = 0; keep(b); }
    clearTimeout(plan);
    if (tries < 6) plan = setTimeout(flush, 2e3 * 2 ** tries++);
  });
};

const get = () => cur && {id: cur.i, revision: cur.r, categories: Object.assign({}, cur.c), method: cur.m, date: new Date(cur.t).toISOString(), gpc: cur.g};

const save = (c, m) => {
  c[N] = true;
  if (gpc && m == 'accept_all' && 'targeting' in c) { c.targeting = false; m = 'gpc'; }
  const prev = cur && cur.c, old = st && st.c;
  if (prev && keys.some(k => prev[k] && !c[k])) m = 'withdraw';
  cur = {i: (st && st.i) || uid(), r: C.r, c, t: Date.now(), m, g: gpc};
  st = cur;
  d.cookie = K + '=' + encodeURIComponent(JSON.stringify(cur)) + ';path=/;max-age=' + (any(c) ? C.a : C.f) * 86400 + ';SameSite=Lax' + (location.protocol == 'https:' ? ';Secure' : '');
  // The record names the revision this visitor was shown; it stands locally even when the portal cannot
  // be reached or refuses this origin.
  keep(out().concat({q: uid(), t: cur.t, b: {consent_id: cur.i, revision: C.r, choices: Object.assign({}, c), method: m, page_url: location.href.split(/[?#]/)[0], gpc}}).slice(-20));
  render(0);
  const ev = get();
  later(() => {
    if (old) keys.forEach(k => old[k] && !c[k] && drop(k));
    apply(c);
    gtag('consent', 'update', cm(c));
    flush();
    d.dispatchEvent(new CustomEvent('privacyportal:consent', {detail: ev}));
  });
};

const R = d.createElement('div');
let opener = false;
R.className = 'ppc';
R.lang = L;
R.style.display = 'none';
let layer = 0, back = null, css = 0;
const btns = x => '<div class="ppc-b"><button type="button" data-a="a">' + esc(S.a) + '</button><button type="button" data-a="r">' + esc(S.r) + '</button><button type="button" data-a="' + x + '">' + esc(x == 'c' ? S.c : S.s) + '</button></div>';
const note = gpc ? '<p class="ppc-g">' + esc(S.g) + '</p>' : '';

function render(n, quiet) {
  const was = layer;
  layer = n;
  if (n && !was && !R.contains(d.activeElement)) back = d.activeElement;
  const c = (cur && cur.c) || {};
  R.innerHTML = !n ? (cur && !opener ? '<button type="button" class="ppc-pill" data-a="o">' + esc(S.p) + '</button>' : '')
    : n == 1 ? '<div class="ppc-box" role="dialog" aria-labelledby="ppc-t" aria-describedby="ppc-x" tabindex="-1"><h2 id="ppc-t">' + esc(S.t) +
      '</h2><p id="ppc-x">' + esc(S.x) + '</p>' + note + btns('c') + '<p class="ppc-l"><a href="' + B + '/cookies/' + C.k + '/" target="_blank" rel="noopener">' + esc(S.m) + '</a></p></div>'
    : '<div class="ppc-ov"></div><div class="ppc-box ppc-2" role="dialog" aria-modal="true" aria-labelledby="ppc-t" tabindex="-1"><h2 id="ppc-t">' + esc(S.p) + '</h2>' + note +
      C.c.map(x => '<div class="ppc-c"><label><input type="checkbox" name="' + esc(x[0]) + '"' + (x[0] == N ? ' checked disabled' : c[x[0]] ? ' checked' : '') + '> ' +
        esc(pk(x[1])) + (x[0] == N ? ' <span>(' + esc(S.n) + ')</span>' : '') + '</label><p>' + esc(pk(x[2])) + '</p>' +
        (x[3].length ? '<details><summary>' + esc(S.k) + ' (' + x[3].length + ')</summary><ul>' + x[3].map(y => '<li><code>' + esc(y[0]) + '</code> ' + esc(y[1]) + ', ' + esc(y[2]) + '</li>').join('') + '</ul></details>' : '') +
        '</div>').join('') + btns('s') + (cur ? '<p class="ppc-i">' + esc(S.i) + ': <code>' + esc(cur.i) + '</code></p>' : '') + '</div>';
  R.className = 'ppc' + (n == 2 ? ' ppc-m' : '');
  R.style.display = css && (n || !opener && cur) ? '' : 'none';
  const box = R.querySelector('.ppc-box');
  if (quiet) return;
  if (box) box.focus();
  else if (was) { const t = back && back.isConnected && back != d.body ? back : R.querySelector('.ppc-pill'); if (t) t.focus(); back = null; }
}

R.addEventListener('click', e => {
  const a = e.target.closest('[data-a]');
  if (!a) return;
  const t = a.dataset.a;
  if (t == 'a') save(all(1), 'accept_all');
  else if (t == 'r') save(all(0), 'reject_all');
  else if (t == 'c') render(2);
  else if (t == 'o') render(1);
  else { const c = all(0); R.querySelectorAll('input:checked').forEach(i => c[i.name] = true); save(c, 'custom'); }
});
R.addEventListener('keydown', e => {
  if (layer != 2) return;
  if (e.key == 'Escape') { e.preventDefault(); render(cur ? 0 : 1); }
  else if (e.key == 'Tab') {
    // Keep focus inside the settings dialog while it is open.
    const f = [...R.querySelectorAll('button,a[href],input:not([disabled]),summary')], a = d.activeElement;
    const first = f[0], last = f[f.length - 1];
    if (e.shiftKey && (a == first || !f.includes(a))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && a == last) { e.preventDefault(); first.focus(); }
  }
});
d.addEventListener('click', e => {
  const o = e.target.closest && e.target.closest('[data-pp-open]');
  if (o) { e.preventDefault(); render(1); }
});

w.PrivacyPortal = {
  show: p => render(p ? 2 : 1),
  getConsent: get,
  acceptCategory: k => {
    const c = Object.assign(all(0), cur && cur.c);
    (k == 'all' ? keys : [].concat(k)).forEach(x => { if (x in c) c[x] = true; });
    save(c, 'custom');
  },
};

// On an embedding site the banner takes focus so keyboard users meet it first; on the portal's own
// pages (which have their own Cookie settings link) it stays out of the way, as a non-modal box.
let grab = location.origin != B, up = 0;
const show = () => { if (css && up) { render(layer, !(grab && layer)); grab = 0; } };
// The styles come inside this script: a constructed stylesheet needs no request and no inline <style>,
// which a strict Content-Security-Policy would refuse. Older browsers load the stylesheet instead, and see
// nothing until it is in, so the host page never shows an unstyled flash.
try {
  const sh = new CSSStyleSheet();
  sh.replaceSync(C.y);
  d.adoptedStyleSheets = d.adoptedStyleSheets.concat(sh);
  css = 1;
} catch (e) {
  const ln = d.createElement('link');
  ln.rel = 'stylesheet';
  ln.href = B + C.css;
  ln.onload = ln.onerror = () => { css = 1; show(); };
  d.head.appendChild(ln);
}
// A returning visitor's choice reaches Consent Mode now, before any tag placed after this script runs.
if (cur) gtag('consent', 'update', cm(cur.c));
// The banner needs the page's body: at once with defer, after parsing when the script sits first in <head>.
const boot = () => {
  opener = !!d.querySelector('[data-pp-open]');
  d.body.appendChild(R);
  up = 1;
  if (cur) { apply(cur.c); render(0, 1); } else render(1, 1);
  // The portal's cookie declaration links here with #cookie-settings to reopen the choice on this site.
  const ask = () => location.hash == '#cookie-settings' && render(1, !css);
  ask();
  w.addEventListener('hashchange', ask);
  show();
  // Content added later (single-page apps, late widgets) is unblocked as soon as it appears.
  new MutationObserver(() => cur && apply(cur.c)).observe(d.documentElement, {childList: true, subtree: true});
  // Records a past page view could not deliver.
  later(flush);
};
d.body ? boot() : d.addEventListener('DOMContentLoaded', boot);
})
