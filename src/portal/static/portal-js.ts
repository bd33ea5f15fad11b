/**
 * Optional progressive enhancement, served same-origin (CSP `script-src 'self'`). Every page works
 * without it. It: submits a code form once the code is complete (only when the form has no checkbox left to
 * decide); shows "copy" buttons; counts down the resend cooldown on its button; asks destructive
 * confirmations in a dialog; runs a passkey assertion where the server supplied WebAuthn options.
 */
export const PORTAL_JS = `(function () {
  'use strict';
  function each(sel, fn) { Array.prototype.forEach.call(document.querySelectorAll(sel), fn); }

  each('input[data-autosubmit]', function (input) {
    var len = parseInt(input.getAttribute('data-autosubmit'), 10);
    var done = false;
    input.addEventListener('input', function () {
      var v = input.value.replace(/\\s+/g, '');
      if (v !== input.value) input.value = v;
      if (done || !len || v.length !== len || !input.checkValidity()) return;
      var form = input.form;
      // Never submit behind the user's back while a choice (e.g. "trust this device") is still open.
      if (!form || form.querySelector('input[type="checkbox"]')) return;
      done = true;
      if (typeof form.requestSubmit === 'function') form.requestSubmit(); else form.submit();
    });
  });

  each('button[data-copy]', function (button) {
    if (!navigator.clipboard || !window.isSecureContext) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(button.getAttribute('data-copy') || '').then(function () {
        button.textContent = button.getAttribute('data-copied') || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {});
    });
  });

  // "Send a new code" inside the resend cooldown: disabled, counting down on the button itself.
  each('button[data-countdown]', function (button) {
    var left = parseInt(button.getAttribute('data-countdown'), 10);
    var template = button.getAttribute('data-countdown-text') || '';
    var label = button.textContent;
    if (!(left > 0) || template.indexOf('{s}') < 0) return;
    var until = Date.now() + left * 1000;
    function tick() {
      var s = Math.ceil((until - Date.now()) / 1000);
      if (s <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = template.replace('{s}', String(s));
      setTimeout(tick, 250);
    }
    tick();
  });

  // Confirmations: a link to a page that asks (without JavaScript) opens the same question as a dialog.
  each('a[data-dialog]', function (link) {
    var dialog = document.getElementById(link.getAttribute('data-dialog') || '');
    if (!dialog || typeof dialog.showModal !== 'function') return;
    link.addEventListener('click', function (event) {
      event.preventDefault();
      dialog.showModal();
      var first = dialog.querySelector('button[type="submit"]');
      if (first) first.focus();
    });
    each('#' + dialog.id + ' [data-dialog-close]', function (close) {
      close.addEventListener('click', function () { dialog.close(); link.focus(); });
    });
  });

  // Passkeys: @simplewebauthn/browser (served as webauthn.js on the pages that need it) runs the ceremony
  // with the options the page carries; its JSON answer is posted in the form's credential field.
  each('form[data-webauthn-form]', function (form) {
    var button = form.querySelector('button[data-webauthn-options]');
    var field = form.querySelector('input[name="credential"]');
    var lib = window.SimpleWebAuthnBrowser;
    if (!button || !field || !lib || !lib.browserSupportsWebAuthn()) return;
    var create = button.getAttribute('data-webauthn-mode') === 'create';
    button.hidden = false;
    each('[data-webauthn-unsupported]', function (el) { el.hidden = true; });
    form.addEventListener('submit', function (event) {
      if (field.value) return;
      event.preventDefault();
      if (!form.reportValidity()) return;
      var optionsJSON;
      try { optionsJSON = JSON.parse(button.getAttribute('data-webauthn-options') || '{}'); } catch (e) { return; }
      var call = create ? lib.startRegistration({ optionsJSON: optionsJSON }) : lib.startAuthentication({ optionsJSON: optionsJSON });
      call.then(function (answer) {
        field.value = JSON.stringify(answer);
        form.submit();
      }, function () {
        var err = form.querySelector('[data-webauthn-error]');
        if (err) err.hidden = false;
      });
    });
  });
})();
`;
