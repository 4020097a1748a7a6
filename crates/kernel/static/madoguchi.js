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
