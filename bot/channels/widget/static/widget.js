/* welcomebot web widget (SPEC §6). Embed with one tag:
 *   <script src="https://GATEWAY/widget.js" data-language="de" data-title="…" data-color="#1d5c8c" defer></script>
 * Options (all optional): data-gateway (default: where this file came from), data-language (used when
 * none of the browser's languages is offered), data-title, data-color (accent), data-text-color.
 * Plain JavaScript, no build step, no requests but to the gateway. Everything from the server or the
 * user is put into the page as text (textContent); links are made here only for http(s), tel: and a
 * map search the user opens by a click. Labels come from the gateway's catalogs (/widget/api/strings).
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__welcomebotWidget) return;
  window.__welcomebotWidget = true;
  var opt = script.dataset;
  var base = (opt.gateway || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  var api = base + '/widget/api/';
  var KEY = 'welcomebot:' + base + ':';
  var MAP_SEARCH = 'https://www.openstreetmap.org/search?query=';
  var MAX_BACKOFF = 30000;

  // ---- storage: the session id, the offline queue, the panel's open state ----------------------
  function load(name) { try { return JSON.parse(localStorage.getItem(KEY + name)); } catch (e) { return null; } }
  function save(name, value) { try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* private mode */ } }
  function randomId(bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  var session = load('session');
  var known = typeof session === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(session);
  if (!known) { session = randomId(16); save('session', session); }
  var queue = Array.isArray(load('queue')) ? load('queue') : [];

  var state = { language: null, dir: 'ltr', strings: {}, languages: [], lastId: 0, seen: {}, sent: {}, online: true, opened: false, ready: false, unread: 0 };

  function hints() {
    var list = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || '']).slice(0, 8);
    if (opt.language) list.push(opt.language);
    return list.filter(Boolean);
  }

  // ---- colours: the site's accent, with a guard for WCAG AA contrast (4.5:1) ------------------
  function parseHex(value) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec((value || '').trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/(.)/g, '$1$1') : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(h.substr(i, 2), 16); });
  }
  function luminance(rgb) {
    var c = rgb.map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function hex(rgb) { return '#' + rgb.map(function (v) { return ('0' + Math.round(v).toString(16)).slice(-2); }).join(''); }
  function colours() {
    var accent = parseHex(opt.color) || [29, 92, 140];
    var text = parseHex(opt.textColor);
    var white = [255, 255, 255], ink = [17, 17, 17];
    if (!text || contrast(text, accent) < 4.5) text = contrast(white, accent) >= contrast(ink, accent) ? white : ink;
    // A mid-tone accent reaches 4.5:1 with neither: darken it until white text does.
    for (var i = 0; contrast(text, accent) < 4.5 && i < 20; i++) {
      text = white;
      accent = accent.map(function (v) { return v * 0.85; });
    }
    return { accent: hex(accent), text: hex(text) };
  }

  // ---- DOM: a Shadow DOM so that the host page's CSS and ours do not meet ----------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'class') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var CSS = [
    ':host{all:initial}',
    '*{box-sizing:border-box}',
    '.root{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",Tahoma,sans-serif;color:#1a1a1a}',
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    'button,select,input{font:inherit}',
    ':focus-visible{outline:3px solid #ffbf47;outline-offset:0;box-shadow:0 0 0 6px #1a1a1a}', // visible on light and dark
    '.launcher{position:fixed;bottom:20px;inset-inline-end:20px;z-index:2147483000;display:flex;align-items:center;gap:8px;',
    'min-height:52px;padding:10px 18px;border:0;border-radius:26px;background:var(--accent);color:var(--on-accent);cursor:pointer;',
    'box-shadow:0 4px 14px rgba(0,0,0,.3);font-weight:600}',
    '.launcher .icon{width:24px;height:24px;flex:none}',
    '.badge{min-width:22px;padding:0 6px;border-radius:11px;background:#b00020;color:#fff;font-size:13px;text-align:center}',
    '.panel{position:fixed;bottom:86px;inset-inline-end:20px;z-index:2147483001;width:380px;max-width:calc(100vw - 40px);',
    'height:600px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border-radius:14px;',
    'box-shadow:0 8px 30px rgba(0,0,0,.35);overflow:hidden}',
    '.panel[hidden]{display:none}',
    'header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:var(--accent);color:var(--on-accent)}',
    'h2{flex:1;margin:0;font-size:17px;line-height:1.25}',
    'header select{max-width:9.5em;min-height:36px;border-radius:6px;border:1px solid currentColor;background:#fff;color:#1a1a1a;padding:2px 4px}',
    '.close{min-width:44px;min-height:44px;border:0;border-radius:8px;background:transparent;color:inherit;font-size:26px;line-height:1;cursor:pointer}',
    '.status{padding:6px 12px;background:#fff4ce;color:#3d2e00;font-size:14px}',
    '.status[hidden]{display:none}',
    '.log{flex:1;overflow-y:auto;padding:12px;background:#f4f5f7;display:flex;flex-direction:column;gap:8px}',
    '.msg{max-width:88%;padding:8px 12px;border-radius:12px;overflow-wrap:anywhere;white-space:pre-wrap}',
    '.msg p{margin:0}',
    '.bot{align-self:flex-start;background:#fff;border:1px solid #d6d9de}',
    '.user{align-self:flex-end;background:var(--accent);color:var(--on-accent)}',
    '.user.pending{border:2px dashed var(--on-accent)}',
    '.note{display:block;font-size:13px;margin-top:4px}',
    '.root:not(.offline) .queued-note{display:none}', // while online it is on its way
    '.failed{background:#fde7e9;color:#6e0010}',
    'a{color:#0b4f8a;text-decoration:underline;unicode-bidi:isolate}',
    '.user a{color:inherit}',
    '.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}',
    '.choices button,.map{min-height:40px;padding:6px 12px;border:1px solid #0b4f8a;border-radius:18px;background:#fff;color:#0b4f8a;cursor:pointer;text-align:start}',
    '.map{min-height:32px;padding:2px 10px;margin-inline-start:6px;font-size:14px}',
    '.choices button:hover,.map:hover{background:#e8f0f8}',
    '.tools{display:flex;padding:6px 8px 0;border-top:1px solid #d6d9de;background:#fff}',
    'form{display:flex;gap:6px;padding:6px 8px 8px;background:#fff}',
    'form input{flex:1;min-width:0;min-height:44px;padding:8px 10px;border:1px solid #767676;border-radius:8px;color:#1a1a1a;background:#fff}',
    'form button{min-height:44px;padding:0 14px;border:0;border-radius:8px;background:var(--accent);color:var(--on-accent);cursor:pointer;font-weight:600}',
    '.topics{min-height:36px;padding:4px 14px;border:1px solid #0b4f8a;border-radius:18px;background:#fff;color:#0b4f8a;cursor:pointer;font-weight:600}',
    '@media (max-width:480px){.panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}',
    '.root.open .launcher{display:none}}'
  ].join('\n');

  // A drawn speech bubble: an emoji would depend on the visitor's fonts.
  function bubbleIcon() {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
    path.setAttribute('fill', 'currentColor');
    svg.appendChild(path);
    return svg;
  }

  var host = el('div', { id: 'welcomebot-widget' });
  var shadow = host.attachShadow({ mode: 'open' });
  var palette = colours();
  var root = el('div', { class: 'root' });
  root.style.setProperty('--accent', palette.accent);
  root.style.setProperty('--on-accent', palette.text);

  var badge = el('span', { class: 'badge', 'aria-hidden': 'true' });
  badge.hidden = true;
  var launcherLabel = el('span');
  var launcher = el('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'wb-panel' },
    [bubbleIcon(), launcherLabel, badge]);
  var title = el('h2', { id: 'wb-title' });
  var picker = el('select', { id: 'wb-language' });
  var pickerLabel = el('label', { for: 'wb-language', class: 'sr' });
  var closeButton = el('button', { type: 'button', class: 'close', text: '×' });
  var status = el('div', { class: 'status', role: 'status' });
  status.hidden = true;
  var log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', tabindex: '0' });
  var input = el('input', { type: 'text', autocomplete: 'off', maxlength: '4000', id: 'wb-input' });
  var inputLabel = el('label', { for: 'wb-input', class: 'sr' });
  var topics = el('button', { type: 'button', class: 'topics' });
  var sendButton = el('button', { type: 'submit' });
  var form = el('form', {}, [inputLabel, input, sendButton]);
  var panel = el('section', { id: 'wb-panel', class: 'panel', role: 'dialog', 'aria-labelledby': 'wb-title' },
    [el('header', {}, [title, pickerLabel, picker, closeButton]), status, log, el('div', { class: 'tools' }, [topics]), form]);
  panel.hidden = true;
  root.appendChild(launcher);
  root.appendChild(panel);
  shadow.appendChild(el('style', { text: CSS }));
  shadow.appendChild(root);

  // ---- labels and direction in the conversation's language -------------------------------------
  function t(key) { return state.strings[key] || ''; }
  function relabel() {
    root.setAttribute('dir', state.dir);
    root.setAttribute('lang', state.language || '');
    title.textContent = opt.title || t('title');
    launcherLabel.textContent = opt.title || t('title');
    nameLauncher();
    closeButton.setAttribute('aria-label', t('close'));
    pickerLabel.textContent = t('language');
    log.setAttribute('aria-label', t('log'));
    input.placeholder = t('placeholder');
    inputLabel.textContent = t('input');
    sendButton.textContent = t('send');
    topics.textContent = t('topics');
    status.textContent = t('offline');
    if (state.languages.length && picker.options.length !== state.languages.length) {
      picker.textContent = '';
      state.languages.forEach(function (l) { picker.appendChild(el('option', { value: l.code, lang: l.code, dir: l.dir, text: l.name })); });
    }
    picker.value = state.language || '';
    var intro = log.querySelector('.intro p');
    if (intro) intro.textContent = t('intro');
    log.querySelectorAll('.who-you').forEach(function (n) { n.textContent = t('you') + ': '; });
    log.querySelectorAll('.who-bot').forEach(function (n) { n.textContent = t('assistant') + ': '; });
    log.querySelectorAll('.queued-note').forEach(function (n) { n.textContent = t('queued'); });
    log.querySelectorAll('.map').forEach(function (n) { n.setAttribute('aria-label', t('map') + ': ' + n.dataset.address); n.lastChild.textContent = t('map'); });
  }

  // Its name says what it does and contains its visible text (WCAG 2.5.3).
  function nameLauncher() {
    launcher.setAttribute('aria-label', t(panel.hidden ? 'open' : 'close') + ': ' + (opt.title || t('title')));
  }

  function getJSON(path) {
    return fetch(api + path).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }

  function loadStrings(language) {
    var query = language ? 'language=' + encodeURIComponent(language) : 'client_languages=' + encodeURIComponent(hints().join(','));
    return getJSON('strings?' + query).then(function (data) {
      state.language = data.language;
      state.dir = data.dir;
      state.strings = data.strings;
      state.languages = data.languages;
      relabel();
    });
  }

  // The server says which language the conversation is in after every turn.
  function applyLanguage(data) {
    if (data && data.language && data.language !== state.language) return loadStrings(data.language).catch(function () {});
  }

  // ---- messages: text lines with links the widget makes itself --------------------------------
  var LINKS = /(https?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]])|((?:\+|\b0)\d[\d \-\/()]{5,}\d)/g;

  function line(text) {
    var p = el('p');
    var address = /^📍\s*/.exec(text);
    var last = 0, m;
    LINKS.lastIndex = 0;
    while ((m = LINKS.exec(text))) {
      p.appendChild(document.createTextNode(text.slice(last, m.index)));
      p.appendChild(link(m[0], !!m[2]));
      last = m.index + m[0].length;
    }
    p.appendChild(document.createTextNode(text.slice(last)));
    if (address && text.length > address[0].length) p.appendChild(mapButton(text.slice(address[0].length).trim()));
    return p;
  }

  function link(text, isPhone) {
    if (isPhone) {
      var digits = text.replace(/[^\d+]/g, '');
      if (digits.replace('+', '').length < 7) return document.createTextNode(text);
      return el('a', { href: 'tel:' + digits, dir: 'ltr', text: text }); // digits keep their order in RTL
    }
    var url;
    try { url = new URL(text); } catch (e) { return document.createTextNode(text); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return document.createTextNode(text);
    return el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow', dir: 'ltr', text: text });
  }

  // The map link is made when the newcomer asks for it: no request to a map service before.
  function mapButton(address) {
    var button = el('button', { type: 'button', class: 'map', 'aria-label': t('map') + ': ' + address },
      [el('span', { 'aria-hidden': 'true', text: '🗺 ' }), el('span', { text: t('map') })]);
    button.dataset.address = address;
    button.addEventListener('click', function () { window.open(MAP_SEARCH + encodeURIComponent(address), '_blank', 'noopener'); });
    return button;
  }

  function bubble(from, text) {
    var node = el('div', { class: 'msg ' + from });
    node.appendChild(el('span', { class: 'sr who-' + (from === 'user' ? 'you' : 'bot'), text: t(from === 'user' ? 'you' : 'assistant') + ': ' }));
    String(text || '').split('\n').forEach(function (l) { node.appendChild(line(l)); });
    return node;
  }

  function choices(buttons) {
    var box = el('div', { class: 'choices' });
    buttons.forEach(function (b) {
      if (!b || typeof b.payload !== 'string' || typeof b.title !== 'string') return;
      var button = el('button', { type: 'button', text: b.title });
      button.addEventListener('click', function () { send({ payload: b.payload, title: b.title }); });
      box.appendChild(button);
    });
    return box;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function render(entry) {
    if (!entry || typeof entry.id !== 'number' || state.seen[entry.id]) return;
    state.seen[entry.id] = true;
    if (entry.client_id) state.sent[entry.client_id] = true;
    state.lastId = Math.max(state.lastId, entry.id);
    var hasText = typeof entry.text === 'string' && entry.text !== '';
    var buttons = Array.isArray(entry.buttons) ? entry.buttons : [];
    var pending = entry.client_id && log.querySelector('[data-client-id="' + entry.client_id.replace(/[^\w-]/g, '') + '"]');
    if (!hasText && !buttons.length) { // structured data for other channels, or nothing left to show
      if (pending) pending.remove();
      return;
    }
    var node = bubble(entry.from === 'user' ? 'user' : 'bot', hasText ? entry.text : '');
    if (buttons.length) node.appendChild(choices(buttons));
    node.dataset.id = entry.id;
    if (pending) log.replaceChild(node, pending);
    else log.appendChild(node);
    var intro = log.querySelector('.intro');
    if (intro) intro.remove();
    if (entry.from !== 'user' && panel.hidden && state.ready) { state.unread++; showBadge(); }
    scrollDown();
  }

  function showBadge() {
    badge.textContent = String(state.unread);
    badge.hidden = state.unread === 0;
  }

  function renderPending(message) {
    if (state.sent[message.client_id]) return; // already in the history: it got through
    if (log.querySelector('[data-client-id="' + message.client_id + '"]')) return; // shown already
    var node = bubble('user', message.title || message.text);
    node.classList.add('pending');
    node.dataset.clientId = message.client_id;
    node.appendChild(el('span', { class: 'note queued-note', text: t('queued') }));
    log.appendChild(node);
    scrollDown();
  }

  function renderIntro() {
    if (log.querySelector('.msg')) return;
    var node = el('div', { class: 'msg bot intro' }, [el('span', { class: 'sr who-bot', text: t('assistant') + ': ' }), el('p', { text: t('intro') })]);
    log.appendChild(node);
  }

  // ---- sending: through a queue kept in localStorage, so nothing is lost offline ---------------
  var flushing = false;

  function send(message) {
    message.client_id = randomId(12);
    queue.push(message);
    save('queue', queue);
    renderPending(message);
    flush();
  }

  function flush() {
    if (flushing || !queue.length) return;
    flushing = true;
    var message = queue[0];
    var body = JSON.stringify(Object.assign({ session: session, client_languages: hints() }, message));
    fetch(api + 'messages', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body })
      .then(function (response) {
        if (response.status >= 500 || response.status === 0) throw new Error('HTTP ' + response.status);
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        queue.shift();
        save('queue', queue);
        if (!result.ok) { markFailed(message.client_id); return; }
        (result.data.messages || []).forEach(render);
        // Handled before (its answer was lost on the way): the history has it; drop the copy
        // shown as pending once the stream has brought the original.
        if (result.data.duplicate && state.sent[message.client_id]) removePending(message.client_id);
        applyLanguage(result.data);
      })
      .then(function () { flushing = false; flush(); },
        function () { flushing = false; setOnline(false); reconnectSoon(); });
  }

  function removePending(clientId) {
    var node = log.querySelector('.pending[data-client-id="' + clientId + '"]');
    if (node) node.remove();
  }

  function markFailed(clientId) {
    var node = log.querySelector('[data-client-id="' + clientId + '"]');
    if (!node) return;
    node.classList.remove('pending');
    node.classList.add('failed');
    var note = node.querySelector('.queued-note');
    if (note) { note.classList.remove('queued-note'); note.textContent = t('failed'); }
  }

  // ---- server push: Server-Sent Events, reconnected with exponential back-off ------------------
  var source = null, timer = null, backoff = 1000;

  function connect() {
    clearTimeout(timer);
    timer = null;
    if (source) source.close();
    source = new EventSource(api + 'events?session=' + session + '&after=' + state.lastId);
    source.onopen = function () {
      backoff = 1000;
      setOnline(true);
      if (!state.language) loadStrings(null).catch(function () {}); // started while the gateway was away
      flush();
    };
    source.addEventListener('message', function (event) {
      try { render(JSON.parse(event.data)); } catch (e) { /* a broken event: the next reload shows it */ }
    });
    source.onerror = function () {
      source.close();
      source = null;
      setOnline(false);
      reconnectSoon();
    };
  }

  function reconnectSoon() {
    if (timer || source) return;
    var wait = backoff * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
    timer = setTimeout(connect, wait);
  }

  function setOnline(online) {
    state.online = online;
    status.hidden = online;
    root.classList.toggle('offline', !online);
  }

  window.addEventListener('online', function () { backoff = 1000; if (!source) connect(); });

  // ---- opening, closing, keyboard --------------------------------------------------------------
  function open() {
    panel.hidden = false;
    root.classList.add('open');
    launcher.setAttribute('aria-expanded', 'true');
    nameLauncher();
    state.unread = 0;
    showBadge();
    save('open', true);
    start();
    scrollDown();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    root.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    nameLauncher();
    save('open', false);
    launcher.focus();
  }

  launcher.addEventListener('click', function () { if (panel.hidden) open(); else close(); });
  closeButton.addEventListener('click', close);
  panel.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { event.preventDefault(); close(); }
    else if (event.key === 'Tab' && fullScreen.matches) keepFocusInside(event);
  });
  // Full screen on a phone, the page behind is covered: Tab goes round inside the panel.
  var fullScreen = window.matchMedia('(max-width: 480px)');
  function keepFocusInside(event) {
    var all = panel.querySelectorAll('button, select, input, a[href], [tabindex="0"]');
    var first = all[0], last = all[all.length - 1], active = shadow.activeElement;
    if (event.shiftKey && active === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && active === last) { event.preventDefault(); first.focus(); }
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    send({ text: text });
    input.focus();
  });
  topics.addEventListener('click', function () { send({ payload: '/help', title: topics.textContent }); });
  // Arrow keys on a closed picker fire 'change' at every step: the labels follow at once, the
  // choice is sent once the newcomer has stopped moving.
  var pickTimer = null;
  picker.addEventListener('change', function () {
    var code = picker.value;
    loadStrings(code).catch(function () {});
    clearTimeout(pickTimer);
    pickTimer = setTimeout(function () {
      var chosen = state.languages.filter(function (l) { return l.code === code; })[0];
      send({ payload: '/change_language' + JSON.stringify({ language: code }), title: chosen ? chosen.name : code, language: code });
    }, 700);
  });

  // ---- start: labels first; history and the stream once the newcomer has a conversation --------
  function start() {
    if (state.opened) return;
    state.opened = true;
    getJSON('history?session=' + session + '&client_languages=' + encodeURIComponent(hints().join(',')))
      .then(function (data) {
        (data.messages || []).forEach(render);
        applyLanguage(data);
      })
      .catch(function () { setOnline(false); })
      .then(function () {
        renderIntro();
        queue.forEach(renderPending);
        state.ready = true; // from now on, a message arriving while the panel is closed is unread
        connect();
      });
  }

  function boot() {
    // Shown once it has its labels (or the gateway did not answer: then the icon alone).
    loadStrings(null).catch(function () { relabel(); }).then(function () {
      document.body.appendChild(host);
      // Someone who chatted before gets their conversation (and a Lotse's messages) at once.
      if (known) start();
      if (load('open')) open();
    });
  }

  if (document.body) boot();
  else document.addEventListener('DOMContentLoaded', boot);
})();
