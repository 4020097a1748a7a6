// madoguchi — progressive enhancement only. Every page works without this
// file; with it, a form field that applies only when another field has a
// given value (for example 「その他の使いみち」 after choosing 「その他」) stays
// hidden until it does. Without JavaScript such fields are always shown,
// with their condition written out in the hint.
(function () {
  'use strict';
  var conditional = document.querySelectorAll('[data-show-if-field]');
  if (!conditional.length) { return; }
  var form = conditional[0].closest('form');
  if (!form) { return; }

  function valueOf(name) {
    var els = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.type === 'radio') {
        if (el.checked) { return el.value; }
      } else if (el.type === 'checkbox') {
        return el.checked ? 'true' : 'false';
      } else {
        return el.value;
      }
    }
    return '';
  }

  function isShown(name) {
    var holder = form.querySelector('[data-field-name="' + name + '"]');
    return !holder || !holder.hidden;
  }

  function update() {
    // Conditions can chain (a field shown only if a shown field has a value):
    // repeat until nothing changes.
    for (var pass = 0; pass < 5; pass++) {
      var changed = false;
      for (var i = 0; i < conditional.length; i++) {
        var el = conditional[i];
        var parent = el.getAttribute('data-show-if-field');
        var show = isShown(parent) && valueOf(parent) === el.getAttribute('data-show-if-equals');
        if (el.hidden === show) { el.hidden = !show; changed = true; }
      }
      if (!changed) { break; }
    }
  }

  form.addEventListener('change', update);
  form.addEventListener('input', update);
  update();
}());

// Address from the postal code: as the resident types a postal code that
// Japan Post knows, its address field is filled (prefecture, city and town;
// the resident adds the rest) unless they already typed one, and a polite
// live region says so. Without JavaScript the server fills an empty address
// on submit and asks the resident to check it.
(function () {
  'use strict';
  var tenant = /^\/t\/(\d{6})\//.exec(window.location.pathname);
  if (!tenant || !window.fetch) { return; }
  Array.prototype.forEach.call(document.querySelectorAll('[data-address-field]'), function (input) {
    var target = document.getElementById(input.getAttribute('data-address-field'));
    var status = document.getElementById(input.getAttribute('data-address-status'));
    if (!target || !status) { return; }
    var asked = '';
    var filled = '';
    function digits(v) {
      return v.replace(/[\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); })
        .replace(/[^0-9]/g, '');
    }
    function lookUp() {
      var code = digits(input.value);
      if (code.length !== 7 || code === asked) { return; }
      asked = code;
      fetch('/api/v1/t/' + tenant[1] + '/postal-codes/' + code, { headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (a) {
          if (digits(input.value) !== code) { return; }
          if (!a) {
            status.textContent = status.getAttribute('data-not-found');
            return;
          }
          if (target.value === '' || target.value === filled) {
            target.value = a.address;
            filled = a.address;
            status.textContent = status.getAttribute('data-found');
          }
        })
        .catch(function () { asked = ''; });
    }
    input.addEventListener('input', lookUp);
    input.addEventListener('change', lookUp);
  });
}());

// Display board: live updates over Server-Sent Events, a chime and a
// spoken-style announcement for each call. Without JavaScript the page
// reloads itself (meta refresh); with it, the stream keeps it current.
(function () {
  var board = document.querySelector('[data-board-events]');
  if (!board || !window.EventSource) return;
  var meta = document.querySelector('meta[http-equiv="refresh"]');
  if (meta) meta.parentNode.removeChild(meta);
  var announce = board.querySelector('[data-board-announce]');
  // Sentences in the page's language, with {placeholders} to fill.
  function fill(template, values) {
    return String(template || '').replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  var audio = null;
  function chime() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [880, 660].forEach(function (f, i) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = f; o.connect(g); g.connect(audio.destination);
        var t = audio.currentTime + i * 0.35;
        g.gain.setValueAtTime(0.2, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.3);
        o.start(t); o.stop(t + 0.32);
      });
    } catch (e) { /* no sound: the text still changes */ }
  }
  var minutes = function (m) { return fill(announce && announce.getAttribute('data-board-minutes'), { minutes: m }); };
  // Counts older than those shown (a new viewer's first frame comes from
  // the server's memory) are skipped; calls always apply.
  var shownAt = Number(board.getAttribute('data-board-at')) || 0;
  // When each counter's last call arrived: counts computed before it do
  // not take the called number back.
  var calledAt = {};
  var es = new EventSource(board.getAttribute('data-board-events'));
  es.addEventListener('board', function (e) {
    var data = JSON.parse(e.data);
    var counters = data.counters || [];
    if (data.called && data.at) calledAt[data.called.counter] = data.at;
    if (counters.length && data.at) {
      if (data.at < shownAt) counters = [];
      else shownAt = data.at;
    }
    counters.forEach(function (c) {
      var row = board.querySelector('tr[data-counter="' + c.counter + '"]');
      if (!row) return;
      if (!(calledAt[c.counter] > data.at)) {
        row.querySelector('[data-field="now_calling"]').textContent = c.now_calling || '—';
      }
      row.querySelector('[data-field="waiting"]').textContent = c.waiting;
      var wait = row.querySelector('[data-field="wait"]');
      if (c.waiting > 0) {
        wait.textContent = minutes(c.estimated_wait_minutes);
      } else {
        // An empty queue shows no estimate: a dash, said in words.
        wait.textContent = '—';
        var said = document.createElement('span');
        said.className = 'visually-hidden';
        said.textContent = (announce && announce.getAttribute('data-board-nobody')) || '';
        wait.appendChild(said);
      }
    });
    if (data.called) {
      var calledRow = board.querySelector('tr[data-counter="' + data.called.counter + '"]');
      if (calledRow) calledRow.querySelector('[data-field="now_calling"]').textContent = data.called.display;
    }
    if (data.called && announce) {
      var row = board.querySelector('tr[data-counter="' + data.called.counter + '"] th');
      var name = row ? row.textContent : data.called.counter;
      announce.textContent = fill(announce.getAttribute('data-board-announce'),
        { number: data.called.display, counter: name });
      chime();
    }
  });
})();

// Pages that keep a part of themselves current: the ticket page while the
// ticket waits (`data-ticket-refresh`, the whole `.ticket`), and the
// congestion page's current state (`data-refresh-region`, by its id). The
// part is fetched again every so often and replaced in place, instead of
// the reload that keeps the page current without JavaScript (<noscript>).
(function () {
  'use strict';
  if (!window.fetch || !window.DOMParser) { return; }
  function keepCurrent(el, attr, url, find) {
    function schedule() {
      var seconds = parseInt(el.getAttribute(attr), 10);
      if (seconds > 0) { setTimeout(update, seconds * 1000); }
    }
    function update() {
      fetch(url, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) {
          if (!r.ok) { throw new Error('HTTP ' + r.status); }
          return r.text();
        })
        .then(function (html) {
          var fresh = find(new DOMParser().parseFromString(html, 'text/html'));
          if (!fresh) { throw new Error('not on the page'); }
          if (el.innerHTML !== fresh.innerHTML) {
            el.innerHTML = fresh.innerHTML;
            // Parts that need a script (the signature pad) set themselves up again.
            document.dispatchEvent(new CustomEvent('madoguchi:updated', { detail: el }));
          }
          // Called, absent or done: nothing more to wait for.
          if (!fresh.hasAttribute(attr)) { el.removeAttribute(attr); }
          schedule();
        })
        .catch(function () { schedule(); /* offline for a moment: try again later */ });
    }
    schedule();
  }
  var ticket = document.querySelector('[data-ticket-refresh]');
  if (ticket) {
    keepCurrent(ticket, 'data-ticket-refresh', location.pathname, function (doc) {
      return doc.querySelector('.ticket');
    });
  }
  document.querySelectorAll('[data-refresh-region][id]').forEach(function (region) {
    keepCurrent(region, 'data-refresh-region', location.pathname + location.search, function (doc) {
      return doc.getElementById(region.id);
    });
  });
}());

// Signature pad: strokes drawn with finger, pen or mouse are kept as
// points in a 600 × 200 box and sent in the hidden field as
// "x,y x,y;x,y …". A clear button starts again. Without JavaScript the
// page asks the resident to sign the printed application instead.
(function () {
  'use strict';
  function setUp(root) {
  var pads = root.querySelectorAll('[data-signature-pad]:not(.signature-pad--ready)');
  Array.prototype.forEach.call(pads, function (pad) {
    var canvas = pad.querySelector('canvas');
    var field = pad.querySelector('input[type=hidden]');
    if (!canvas || !field || !canvas.getContext) { return; }
    var ctx = canvas.getContext('2d');
    var strokes = [];
    var current = null;
    ctx.lineWidth = 3;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#1a1a1c';
    function point(e) {
      var r = canvas.getBoundingClientRect();
      var x = Math.round((e.clientX - r.left) * canvas.width / r.width);
      var y = Math.round((e.clientY - r.top) * canvas.height / r.height);
      return [Math.max(0, Math.min(canvas.width, x)), Math.max(0, Math.min(canvas.height, y))];
    }
    function save() {
      field.value = strokes.map(function (s) {
        return s.map(function (p) { return p[0] + ',' + p[1]; }).join(' ');
      }).join(';');
    }
    canvas.addEventListener('pointerdown', function (e) {
      e.preventDefault();
      if (canvas.setPointerCapture) { canvas.setPointerCapture(e.pointerId); }
      current = [point(e)];
      strokes.push(current);
    });
    canvas.addEventListener('pointermove', function (e) {
      if (!current) { return; }
      var p = point(e);
      var last = current[current.length - 1];
      ctx.beginPath();
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      current.push(p);
    });
    function end() {
      if (current) { current = null; save(); }
    }
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener('pointerleave', end);
    var clear = document.createElement('button');
    clear.type = 'button';
    clear.className = 'button button--secondary button--small';
    clear.textContent = pad.getAttribute('data-clear-label') || 'Clear';
    clear.addEventListener('click', function () {
      strokes = [];
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      save();
    });
    pad.appendChild(clear);
    pad.classList.add('signature-pad--ready');
  });
  }
  setUp(document);
  document.addEventListener('madoguchi:updated', function (e) { setUp(e.detail || document); });
}());

// A page on a shared device (the kiosk's ticket in kiosk mode) goes back
// to its start after the time its notice states; the notice offers more
// time (a link to the same page with a longer time). Without JavaScript a
// meta refresh inside <noscript> does the same.
(function () {
  'use strict';
  var holder = document.querySelector('[data-return-after][data-return-url]');
  if (!holder) { return; }
  var seconds = Number(holder.getAttribute('data-return-after'));
  var to = holder.getAttribute('data-return-url');
  if (!(seconds > 0) || !to || to.charAt(0) !== '/' || to.charAt(1) === '/') { return; }
  window.setTimeout(function () { window.location.assign(to); }, seconds * 1000);
})();

// Form builder (フォームビルダー): the preview of the field being edited
// follows what staff type. The field's form is posted to the server, which
// renders the field as residents will see it (nothing is saved). Without
// JavaScript the preview shows the field as the page was loaded.
(function () {
  var form = document.querySelector('form[data-builder-form]');
  var region = document.getElementById('live-preview');
  if (!form || !region || !window.fetch || !window.FormData || !window.URLSearchParams) return;
  var url = form.getAttribute('data-preview-url');
  var timer = null;
  var asked = 0;
  function refresh() {
    var mine = ++asked;
    fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)).toString()
    })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && mine === asked) region.innerHTML = html;
      })
      .catch(function () { /* offline for a moment: the next change asks again */ });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }
  form.addEventListener('input', later);
  form.addEventListener('change', later);
})();
