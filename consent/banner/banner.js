/* Privacy Portal consent banner. No dependencies; talks to no host but the portal it came from. */
/* The portal serves this function expression, minified, called with the website's configuration: one JSON value. */
(config => {
  const doc = document, win = window, nav = navigator;
  const NECESSARY = 'necessary', DAY_MS = 864e5;
  // Which layer is showing: nothing (or the reopen pill), the first-layer notice, the settings dialog.
  const CLOSED = 0, NOTICE = 1, SETTINGS = 2;
  // A site that includes the snippet twice still gets one banner.
  if (win.PrivacyPortal) return;
  const script = doc.currentScript || doc.querySelector('script[src*="/consent/' + config.key + '/banner.js"]');
  // The API and the cookie declaration live on the portal, whichever site embeds the banner.
  const portal = script ? new URL(script.src, location.href).origin : location.origin;

  // Google Consent Mode v2: the default goes first, before anything else this script does.
  function gtag() { (win.dataLayer = win.dataLayer || []).push(arguments); }
  const grant = on => on ? 'granted' : 'denied';
  const consentMode = chosen => ({
    ad_storage: grant(chosen.targeting),
    ad_user_data: grant(chosen.targeting),
    ad_personalization: grant(chosen.targeting),
    analytics_storage: grant(chosen.performance),
    functionality_storage: grant(chosen.features),
    personalization_storage: grant(chosen.features),
    security_storage: 'granted'
  });
  gtag('consent', 'default', {...consentMode({}), wait_for_update: 500});

  const gpc = nav.globalPrivacyControl === true;
  const texts = config.texts;
  const languageOf = tag => (tag || '').slice(0, 2).toLowerCase();
  // The page's language first, then the browser's, then the website's default.
  let lang = languageOf(doc.documentElement.lang);
  if (!texts[lang]) lang = (nav.languages || [nav.language]).map(languageOf).find(code => texts[code]) || config.lang;
  const text = texts[lang] || texts.en;
  const translated = byLanguage => byLanguage[lang] || byLanguage.en || '';
  // A cookie's provider, duration and purpose are stored in English; the catalogues' words for them, if any.
  // Own keys only: a staff text such as "constructor" must not find an Object method.
  const words = config.words[lang] || {}, word = typed => words.hasOwnProperty(typed) ? words[typed] : typed;
  const categories = config.categories, keys = categories.map(category => category.key);
  const allChoices = accept => {
    const chosen = {};
    keys.forEach(key => chosen[key] = !!accept || key == NECESSARY);
    return chosen;
  };
  const acceptsOptional = chosen => keys.some(key => key != NECESSARY && chosen[key]);
  const lifetimeDays = chosen => acceptsOptional(chosen) ? config.acceptDays : config.refuseDays;

  // The stored choice keeps its short field names (i id, r revision, c categories, t time, m method,
  // g GPC): browsers hold cookies written in this shape.
  const readStored = () => {
    try {
      const match = doc.cookie.match(/(?:^|; )pp_consent=([^;]*)/);
      return match && JSON.parse(decodeURIComponent(match[1]));
    } catch (e) {
      return null;
    }
  };
  let stored = readStored(), current = null;
  // Ask again when the revision changed or the choice is older than its lifetime.
  if (stored && stored.r == config.revision && stored.c && Date.now() - stored.t < lifetimeDays(stored.c) * DAY_MS) current = stored;

  const newId = () => crypto.randomUUID ? crypto.randomUUID()
    : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, c => (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16));

  // Prior blocking: run scripts and load frames/images of accepted categories, without a reload.
  const unblock = chosen => keys.forEach(key => {
    if (!chosen[key]) return;
    doc.querySelectorAll('script[type="text/plain"][data-category="' + key + '"]').forEach(blocked => {
      const live = doc.createElement('script');
      for (const attr of blocked.attributes) if (attr.name != 'type') live.setAttribute(attr.name, attr.value);
      if (blocked.dataset.src) live.src = blocked.dataset.src;
      live.text = blocked.text;
      blocked.replaceWith(live);
    });
    doc.querySelectorAll('[data-category="' + key + '"][data-src]').forEach(element => {
      element.src = element.dataset.src;
      element.removeAttribute('data-src');
    });
  });

  // Withdrawal: delete the category's declared first-party cookies on this domain and its parent, on
  // every path from here up to the root (a cookie set without a path belongs to the page's folder).
  const deleteCookies = key => {
    const declared = categories.find(category => category.key == key).cookies, host = location.hostname;
    const domains = ['', host, host.replace(/^[^.]+/, '')];
    const paths = location.pathname.split('/').slice(0, -1).map((part, i, parts) => parts.slice(0, i + 1).join('/') || '/');
    const matches = (name, [pattern, , , isPattern]) => {
      try {
        return isPattern ? new RegExp(pattern).test(name) : pattern == name;
      } catch (e) {
        return false;
      }
    };
    doc.cookie.split('; ').forEach(pair => {
      const name = pair.split('=')[0];
      if (declared.some(cookie => matches(name, cookie))) {
        domains.forEach(domain => paths.forEach(path => {
          doc.cookie = name + '=;path=' + path + ';max-age=0' + (domain ? ';domain=' + domain : '');
        }));
      }
    });
  };

  // Whatever the next paint does not need waits for it, so a click costs one frame: the tasks queue up and
  // run in order in the first task after that paint. The timer covers hidden tabs, where animation frames do
  // not come; leaving the page runs them at once, so no choice is lost to a quick navigation.
  let queue = [], round = 0;
  const drain = () => {
    round++;
    const tasks = queue;
    queue = [];
    tasks.forEach(task => task());
  };
  const afterPaint = task => {
    if (queue.push(task) > 1) return;
    const mine = round, run = () => mine == round && drain();
    requestAnimationFrame(() => setTimeout(run));
    setTimeout(run, 250);
  };
  win.addEventListener('pagehide', drain);

  // Outbox: each choice is kept in this browser until the portal has it, and sent again later on this page
  // (with backoff) or on the next page view, so an outage of the portal loses no proof. A retried record
  // keeps its consent id; before sending it again, the portal is asked whether the first try got through.
  // Entries keep their stored field names: q entry id, t time, b the record, l lease time, n tries.
  const OUTBOX = 'pp_outbox_' + config.key, API = portal + '/api/consent/' + config.key;
  let inMemory = [], retries = 0, retryTimer = 0;
  const readOutbox = () => {
    try {
      return JSON.parse(localStorage.getItem(OUTBOX)) || [];
    } catch (e) {
      return inMemory;
    }
  };
  const writeOutbox = entries => {
    inMemory = entries;
    try {
      if (entries.length) localStorage.setItem(OUTBOX, JSON.stringify(entries));
      else localStorage.removeItem(OUTBOX);
    } catch (e) { /* storage refused: memory only */ }
  };
  const sameChoice = (found, record) => found && found.revision == record.revision && found.method == record.method
    && Object.keys(record.choices).every(key => found.choices[key] === record.choices[key]);
  const flush = () => {
    const now = Date.now(), entries = readOutbox().filter(entry => now - entry.t < 2592e6);
    const entry = entries.find(item => !(now - item.l < 3e4));
    if (!entry) { writeOutbox(entries); return; }
    // A lease, so that two tabs of the same site do not send one record twice.
    entry.l = now;
    entry.n = (entry.n || 0) + 1;
    writeOutbox(entries);
    const arrived = entry.n > 1
      ? fetch(API + '/consents/' + entry.b.consent_id)
        .then(response => response.ok && response.json())
        .then(found => sameChoice(found, entry.b) && Date.parse(found.created_at) > entry.t - 6e5)
      : Promise.resolve(false);
    arrived.catch(() => false)
      .then(done => done || fetch(API + '/records', {
        method: 'POST', keepalive: true, headers: {'Content-Type': 'application/json'}, body: JSON.stringify(entry.b)
      })
        // A refusal of the record itself (4xx) will not change on a retry; an outage (5xx, 429, no answer) may.
        .then(response => response.status < 500 && response.status != 429, () => false))
      .then(done => {
        const latest = readOutbox(), mine = latest.find(item => item.q == entry.q);
        if (done) {
          writeOutbox(latest.filter(item => item != mine));
          retries = 0;
          flush();
          return;
        }
        if (mine) { mine.l = 0; writeOutbox(latest); }
        clearTimeout(retryTimer);
        if (retries < 6) retryTimer = setTimeout(flush, 2e3 * 2 ** retries++);
      });
  };

  const getConsent = () => current && {
    id: current.i, revision: current.r, categories: {...current.c}, method: current.m,
    date: new Date(current.t).toISOString(), gpc: current.g
  };

  const save = (chosen, method) => {
    chosen[NECESSARY] = true;
    if (gpc && method == 'accept_all' && 'targeting' in chosen) { chosen.targeting = false; method = 'gpc'; }
    const previous = current && current.c, older = stored && stored.c;
    if (previous && keys.some(key => previous[key] && !chosen[key])) method = 'withdraw';
    const choice = current = stored = {i: (stored && stored.i) || newId(), r: config.revision, c: chosen, t: Date.now(), m: method, g: gpc};
    // The record names the revision this visitor was shown (this script's own, fixed when it was built); it
    // stands locally even when the portal cannot be reached or refuses this origin.
    const record = {
      consent_id: choice.i, revision: config.revision, choices: {...chosen}, method,
      page_url: location.href.split(/[?#]/)[0], gpc
    };
    const detail = getConsent();
    // The click's answer is one attribute on the banner; the cookie, the outbox, the clean-up, Consent Mode,
    // the unblocking, the POST and the event come after the paint, in that order.
    render(CLOSED);
    afterPaint(() => {
      doc.cookie = 'pp_consent=' + encodeURIComponent(JSON.stringify(choice)) + ';path=/;max-age=' + lifetimeDays(chosen) * 86400
        + ';SameSite=Lax' + (location.protocol == 'https:' ? ';Secure' : '');
      writeOutbox(readOutbox().concat({q: newId(), t: choice.t, b: record}).slice(-20));
      if (older) keys.forEach(key => older[key] && !chosen[key] && deleteCookies(key));
      unblock(chosen);
      gtag('consent', 'update', consentMode(chosen));
      flush();
      doc.dispatchEvent(new CustomEvent('privacyportal:consent', {detail}));
    });
  };

  // DOM from elements and text nodes only: staff-typed names never pass through an HTML parser.
  const el = (tag, attrs, ...children) => {
    const node = doc.createElement(tag);
    for (const name in attrs) if (attrs[name] !== false) node.setAttribute(name, attrs[name] === true ? '' : attrs[name]);
    node.append(...children.flat(3).filter(Boolean));
    return node;
  };
  const button = (action, label, attrs) => el('button', {type: 'button', 'data-action': action, ...attrs}, label);
  const choiceButtons = third => el('div', {class: 'ppc-b'},
    button('accept', text.acceptAll), button('reject', text.rejectAll), third);
  const gpcNote = () => gpc && el('p', {class: 'ppc-g'}, text.gpc);

  const notice = () => el('div', {class: 'ppc-box', role: 'dialog', 'aria-labelledby': 'ppc-t', 'aria-describedby': 'ppc-x', tabindex: -1},
    el('h2', {id: 'ppc-t'}, text.title),
    el('p', {id: 'ppc-x'}, text.intro),
    gpcNote(),
    choiceButtons(button('customise', text.customise)),
    el('p', {class: 'ppc-l'},
      el('a', {href: portal + '/cookies/' + config.key + '/', target: '_blank', rel: 'noopener'}, text.policy)));

  const categoryRow = category => {
    const necessary = category.key == NECESSARY, cookies = category.cookies;
    return el('div', {class: 'ppc-c'},
      el('label', {},
        el('input', {type: 'checkbox', name: category.key, checked: necessary, disabled: necessary}),
        ' ', translated(category.name),
        necessary && [' ', el('span', {}, '(' + text.alwaysOn + ')')]),
      el('p', {}, translated(category.description)),
      cookies.length > 0 && el('details', {},
        el('summary', {}, text.cookies + ' (' + cookies.length + ')'),
        el('ul', {}, cookies.map(([name, provider, duration, , purpose]) => el('li', {}, el('code', {}, name),
          ' ' + word(provider) + ', ' + word(duration), purpose && [el('br'), word(purpose)])))));
  };

  const settings = () => el('div', {class: 'ppc-s'},
    el('div', {class: 'ppc-ov'}),
    el('div', {class: 'ppc-2', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'ppc-t2', tabindex: -1},
      el('h2', {id: 'ppc-t2'}, text.settings),
      gpcNote(),
      categories.map(categoryRow),
      choiceButtons(button('save', text.save)),
      // The id a visitor can quote to staff, who find the proof of this choice by it; shown once there is one.
      el('p', {class: 'ppc-i', hidden: true}, text.consentId + ': ', el('code', {}))));

  // Each layer (the notice, the settings, the reopen pill) is built once and then stays laid out; the root's
  // data-l says which one is visible. Showing or closing a layer is that one attribute: showing changes no
  // layout and only paints; closing takes the layer out (display: none), the least a frame can restyle and
  // paint. The notice comes first, so it is the first match for its buttons.
  const root = el('div', {class: 'ppc', lang});
  root.style.display = 'none';
  let layer = CLOSED, focusBack = null, styled = false, noticeBox = null, settingsLayer = null, pill = null;
  const ensureSettings = () => settingsLayer || (settingsLayer = root.insertBefore(settings(), pill));

  function render(next, quiet, focusNow) {
    const was = layer;
    layer = next;
    if (next && !was && !root.contains(doc.activeElement)) focusBack = doc.activeElement;
    let box;
    if (next == NOTICE) {
      box = noticeBox || (noticeBox = root.insertBefore(notice(), root.firstChild));
      // The settings are built and laid out while the visitor reads the notice, not when they ask for them.
      if (!settingsLayer) (win.requestIdleCallback || setTimeout)(ensureSettings, {timeout: 2e3});
    } else if (next == SETTINGS) {
      box = ensureSettings().lastChild;
      // Only what changed is written: each write is style work in the frame that shows the settings.
      const chosen = (current && current.c) || {}, idLine = box.lastChild, id = current ? current.i : '';
      box.querySelectorAll('input').forEach(input => {
        const on = input.disabled || !!chosen[input.name];
        if (input.checked != on) input.checked = on;
      });
      if (idLine.hidden != !id) idLine.hidden = !id;
      if (idLine.lastChild.textContent != id) idLine.lastChild.textContent = id;
    }
    const rest = current && pill ? 0 : '';
    // Closing by a click takes the layer out of the page for its frame (data-l "x"); after the paint it is back
    // laid out and hidden, and the pill shows. Escape moves focus to the pill at once, so it shows at once.
    if (was && !next && !focusNow) {
      root.dataset.l = 'x';
      afterPaint(() => layer || (root.dataset.l = rest));
    } else root.dataset.l = next || rest;
    if (quiet) return;
    if (box) box.focus({preventScroll: true});
    else if (was) {
      // Closing returns focus where it was before the banner took it, else to the reopen pill; after the paint,
      // unless the visitor has moved on (or reopened the banner) meanwhile.
      const target = focusBack && focusBack.isConnected && focusBack != doc.body ? focusBack : pill;
      focusBack = null;
      const back = () => !layer && target && (doc.activeElement == doc.body || root.contains(doc.activeElement)) && target.focus();
      focusNow ? back() : afterPaint(back);
    }
  }

  root.addEventListener('click', event => {
    const action = event.target.closest('[data-action]');
    if (!action) return;
    const name = action.dataset.action;
    if (name == 'accept') save(allChoices(true), 'accept_all');
    else if (name == 'reject') save(allChoices(false), 'reject_all');
    else if (name == 'customise') render(SETTINGS);
    else if (name == 'open') render(NOTICE);
    else {
      const chosen = allChoices(false);
      settingsLayer.querySelectorAll('input:checked').forEach(input => chosen[input.name] = true);
      save(chosen, 'custom');
    }
  });
  root.addEventListener('keydown', event => {
    if (layer != SETTINGS) return;
    if (event.key == 'Escape') {
      event.preventDefault();
      render(current ? CLOSED : NOTICE, false, true);
    } else if (event.key == 'Tab') {
      // Keep focus inside the settings dialog while it is open.
      const focusable = [...settingsLayer.querySelectorAll('button,a[href],input:not([disabled]),summary')], active = doc.activeElement;
      const first = focusable[0], last = focusable[focusable.length - 1];
      if (event.shiftKey && (active == first || !focusable.includes(active))) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && active == last) { event.preventDefault(); first.focus(); }
    }
  });
  // Any element with data-pp-open on the page reopens the choice.
  doc.addEventListener('click', event => {
    if (event.target.closest && event.target.closest('[data-pp-open]')) {
      event.preventDefault();
      render(NOTICE);
    }
  });

  win.PrivacyPortal = {
    show: detailed => render(detailed ? SETTINGS : NOTICE),
    getConsent,
    acceptCategory: which => {
      const chosen = {...allChoices(false), ...current && current.c};
      (which == 'all' ? keys : [].concat(which)).forEach(key => { if (key in chosen) chosen[key] = true; });
      save(chosen, 'custom');
    },
  };

  // On an embedding site the banner takes focus so keyboard users meet it first; on the portal's own
  // pages (which have their own Cookie settings link) it stays out of the way, as a non-modal box.
  let takeFocus = location.origin != portal;
  const reveal = () => {
    if (styled && root.isConnected) {
      root.style.display = '';
      render(layer, !(takeFocus && layer));
      takeFocus = false;
    }
  };
  // The styles come inside this script: a constructed stylesheet needs no request and no inline <style>,
  // which a strict Content-Security-Policy would refuse. Older browsers load the stylesheet instead, and see
  // nothing until it is in, so the host page never shows an unstyled flash.
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(config.styles);
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.concat(sheet);
    styled = true;
  } catch (e) {
    const link = doc.createElement('link');
    link.rel = 'stylesheet';
    link.href = portal + config.css;
    link.onload = link.onerror = () => { styled = true; reveal(); };
    doc.head.appendChild(link);
  }
  // A returning visitor's choice reaches Consent Mode now, before any tag placed after this script runs.
  if (current) gtag('consent', 'update', consentMode(current.c));
  // The banner needs the page's body: at once with defer, after parsing when the script sits first in <head>.
  const boot = () => {
    if (!doc.querySelector('[data-pp-open]')) pill = root.appendChild(button('open', text.settings, {class: 'ppc-pill'}));
    doc.body.appendChild(root);
    if (current) {
      unblock(current.c);
      render(CLOSED, true);
    } else render(NOTICE, true);
    // The portal's cookie declaration links here with #cookie-settings to reopen the choice on this site.
    const askOnHash = () => location.hash == '#cookie-settings' && render(NOTICE, !styled);
    askOnHash();
    win.addEventListener('hashchange', askOnHash);
    reveal();
    // Content added later (single-page apps, late widgets) is unblocked as soon as it appears.
    // The banner's own layers are not such content.
    new MutationObserver(changes => current && changes.some(change => !root.contains(change.target)) && unblock(current.c))
      .observe(doc.documentElement, {childList: true, subtree: true});
    // Records a past page view could not deliver.
    afterPaint(flush);
  };
  if (doc.body) boot();
  else doc.addEventListener('DOMContentLoaded', boot);
})
