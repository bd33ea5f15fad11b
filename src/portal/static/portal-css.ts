/** The portal stylesheet: system fonts, light and dark, no external resources. */
export const PORTAL_CSS = `:root {
  color-scheme: light dark;
  --bg: #f4f6f9;
  --surface: #ffffff;
  --text: #1b2330;
  --muted: #5b6678;
  --border: #d9dee6;
  --border-strong: #b9c1cd;
  --accent: #1f5fbf;
  --accent-hover: #174c9c;
  --accent-text: #ffffff;
  --accent-soft: #e8f0fb;
  --danger: #b42318;
  --danger-soft: #fdecea;
  --warning: #8a5a00;
  --warning-soft: #fff5e0;
  --success: #1d7a46;
  --success-soft: #e7f6ed;
  --focus: #1f5fbf;
  --shadow: 0 1px 2px rgba(16, 24, 40, .05), 0 8px 24px rgba(16, 24, 40, .06);
  --radius: 10px;
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1319;
    --surface: #171c24;
    --text: #e6e9ee;
    --muted: #9aa4b2;
    --border: #2a313c;
    --border-strong: #3a4350;
    --accent: #6ea2f0;
    --accent-hover: #8db6f4;
    --accent-text: #0b1422;
    --accent-soft: #1a2940;
    --danger: #f2877d;
    --danger-soft: #3a1d1b;
    --warning: #f0c061;
    --warning-soft: #352a14;
    --success: #6fcf97;
    --success-soft: #16301f;
    --focus: #8db6f4;
    --shadow: 0 1px 2px rgba(0, 0, 0, .3), 0 8px 24px rgba(0, 0, 0, .25);
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  background: var(--bg);
  color: var(--text);
  font: 16px/1.5 var(--font);
}
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { color: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
[hidden] { display: none !important; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.skip-link { position: absolute; left: .5rem; top: -3rem; padding: .5rem .75rem; background: var(--surface); border-radius: 6px; z-index: 10; }
.skip-link:focus { top: .5rem; }
.nowrap { white-space: nowrap; }

.topbar { border-bottom: 1px solid var(--border); background: var(--surface); }
.topbar__inner { max-width: 32rem; margin: 0 auto; padding: .75rem 1rem; display: flex; align-items: center; justify-content: space-between; gap: 1rem; }
.brand { display: inline-flex; align-items: center; gap: .5rem; font-weight: 600; color: var(--text); letter-spacing: .01em; min-width: 0; }
.brand__name { overflow-wrap: anywhere; }
.brand__mark { color: var(--accent); flex: none; }
.brand__logo { height: 2rem; width: auto; max-width: 10rem; object-fit: contain; }
.topbar__nav { display: flex; align-items: center; gap: 1rem; flex: none; }
.topbar__user, .topbar__link { color: var(--muted); text-decoration: none; font-size: .9375rem; }
.topbar__user:hover, .topbar__link:hover { color: var(--text); text-decoration: underline; }

.main { flex: 1; width: 100%; max-width: 32rem; margin: 0 auto; padding: 2.5rem 1rem 2rem; }
.page--wide .main, .page--wide .topbar__inner { max-width: 52rem; }
.main:focus { outline: none; }
.footer { text-align: center; color: var(--muted); font-size: .8125rem; padding: 1rem 1rem 1.5rem; }
.footer p { margin: 0; }

.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 2rem; }
.card > :first-child { margin-top: 0; }
.card > :last-child { margin-bottom: 0; }
.card__brand { display: flex; align-items: center; gap: .625rem; margin: 0 0 1.25rem; font-weight: 650; font-size: 1.0625rem; }
.card__mark { flex: none; width: 2.25rem; height: 2.25rem; color: var(--accent); }
.card__mark.brand__logo { width: auto; height: 2.5rem; }
.card__foot { margin: 1.5rem 0 0; padding-top: 1rem; border-top: 1px solid var(--border); font-size: .9375rem; text-align: center; color: var(--muted); }
.title { font-size: 1.5rem; line-height: 1.25; font-weight: 650; margin: 0 0 .5rem; letter-spacing: -.01em; }
.subtitle { font-size: 1.0625rem; font-weight: 600; margin: 0 0 .75rem; }
.lead { color: var(--muted); margin: 0 0 1.5rem; }
.lead strong { color: var(--text); font-weight: 600; }
.eyebrow { margin: 0 0 .25rem; color: var(--muted); font-size: .8125rem; font-weight: 600; text-transform: uppercase; letter-spacing: .06em; }
.hint { color: var(--muted); font-size: .875rem; margin: .375rem 0 0; }
.empty { color: var(--muted); margin: 0; }

.stack { display: flex; flex-direction: column; gap: 1.125rem; }
.field { display: flex; flex-direction: column; gap: .375rem; }
.field label { font-weight: 550; font-size: .9375rem; }
input[type="text"], input[type="password"], input[type="email"], input[type="tel"] {
  width: 100%; min-height: 2.75rem; padding: .5rem .75rem;
  font: inherit; color: var(--text); background: var(--surface);
  border: 1px solid var(--border-strong); border-radius: 8px;
  transition: border-color .15s, box-shadow .15s;
}
input:focus { outline: none; border-color: var(--focus); box-shadow: 0 0 0 3px color-mix(in srgb, var(--focus) 30%, transparent); }
input[aria-invalid="true"] { border-color: var(--danger); }
input[readonly] { background: var(--bg); color: var(--muted); }
.input--code { font-family: var(--mono); font-size: 1.375rem; letter-spacing: .3em; text-align: center; }
.check { display: flex; align-items: flex-start; gap: .5rem; font-size: .9375rem; }
.check input { width: 1.125rem; height: 1.125rem; margin: .15rem 0 0; accent-color: var(--accent); flex: none; }

.button {
  display: inline-flex; align-items: center; justify-content: center; gap: .5rem;
  min-height: 2.5rem; padding: .5rem 1rem; border-radius: 8px;
  border: 1px solid var(--border-strong); background: var(--surface); color: var(--text);
  font: inherit; font-weight: 550; text-decoration: none; cursor: pointer; text-align: center;
}
.button:hover { border-color: var(--muted); color: var(--text); }
.button--primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
.button--primary:hover { background: var(--accent-hover); border-color: var(--accent-hover); color: var(--accent-text); }
.button--danger { color: var(--danger); border-color: color-mix(in srgb, var(--danger) 45%, transparent); }
.button--danger:hover { background: var(--danger-soft); border-color: var(--danger); color: var(--danger); }
.button--block { width: 100%; min-height: 2.75rem; }
.button:disabled, .button:disabled:hover { cursor: not-allowed; color: var(--muted); text-decoration: none; }
.button--small { min-height: 2rem; padding: .25rem .75rem; font-size: .875rem; }
.button--link { border: 0; background: none; padding: 0; min-height: 0; color: var(--accent); font-weight: 500; text-decoration: underline; text-underline-offset: 2px; }
.button--link:hover { color: var(--accent-hover); }
.inline-form { display: inline; margin: 0; }
.stack + .inline-form { display: block; margin-top: 1rem; text-align: center; font-size: .9375rem; }

.alert { border-radius: 8px; padding: .75rem 1rem; margin: 0 0 1.25rem; font-size: .9375rem; border: 1px solid transparent; border-left-width: 4px; }
.alert--error { background: var(--danger-soft); border-color: var(--danger); color: var(--text); }
.alert--warning { background: var(--warning-soft); border-color: var(--warning); }
.alert--info { background: var(--accent-soft); border-color: var(--accent); }
.alert--success { background: var(--success-soft); border-color: var(--success); }

.other-methods { margin-top: 1.5rem; padding-top: 1.25rem; border-top: 1px solid var(--border); }
.other-methods .subtitle { font-size: .9375rem; color: var(--muted); font-weight: 600; }
.choices { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: .5rem; }
.choices form { margin: 0; }
.button--choice { width: 100%; flex-direction: column; align-items: flex-start; gap: 0; padding: .625rem .875rem; text-align: left; font-weight: 500; }
.button--choice:hover { background: var(--accent-soft); border-color: var(--accent); }
.choice__detail { color: var(--muted); font-size: .8125rem; font-weight: 400; }

.steps { margin: 0; padding-left: 1.25rem; display: flex; flex-direction: column; gap: 1.25rem; }
.steps > li > p:first-child { margin-top: 0; }
.qr { margin: .75rem 0; padding: 0; background: #fff; border: 1px solid var(--border); border-radius: 8px; width: 15rem; max-width: 100%; overflow: hidden; }
.qr svg { display: block; width: 100%; height: auto; }
.open-app { margin: 0 0 1rem; display: flex; flex-direction: column; gap: .375rem; }
.manual summary { cursor: pointer; color: var(--accent); font-size: .9375rem; }
.secret { display: flex; align-items: center; gap: .75rem; margin: .375rem 0 1rem; padding: .5rem .75rem; border: 1px solid var(--border); border-radius: 8px; background: var(--bg); }
.secret code { flex: 1; min-width: 0; font-family: var(--mono); font-size: 1.0625rem; letter-spacing: .04em; }
.secret__group { white-space: nowrap; }
.secret .button { flex: none; }
.uri code { font-family: var(--mono); font-size: .75rem; word-break: break-all; color: var(--muted); }
.codes { columns: 2; column-gap: 2rem; padding-left: 1.75rem; margin: 0 0 1rem; font-family: var(--mono); font-size: 1.0625rem; }
.codes li { padding: .125rem 0; }
.actions { margin: 0 0 1rem; }

.panels { display: flex; flex-direction: column; gap: 1rem; }
.panel { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 1.25rem 1.5rem; box-shadow: var(--shadow); }
.panel__head { display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; }
.facts { margin: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .75rem 1.5rem; }
.facts dt { color: var(--muted); font-size: .8125rem; }
.facts dd { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
.rows { list-style: none; margin: 0; padding: 0; }
.row { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .75rem 0; border-top: 1px solid var(--border); }
.row:first-child { border-top: 0; padding-top: .25rem; }
.row__main { display: flex; flex-direction: column; min-width: 0; }
.row__title { font-weight: 550; overflow-wrap: anywhere; }
.row__detail { color: var(--muted); font-size: .875rem; overflow-wrap: anywhere; }
.row__actions { display: flex; flex-wrap: wrap; align-items: flex-start; justify-content: flex-end; gap: .5rem; }
.rename > summary { list-style: none; cursor: pointer; }
.rename > summary::-webkit-details-marker { display: none; }
.rename[open] { flex-basis: 100%; }
.rename[open] > .inline-form { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .5rem; margin-top: .5rem; }
.badge--muted { background: var(--accent-soft); color: var(--accent); }
.badge { display: inline-block; margin-left: .375rem; padding: 0 .5rem; border-radius: 999px; background: var(--success-soft); color: var(--success); font-size: .75rem; font-weight: 600; vertical-align: middle; }
.links { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: 1rem 0 0; }
.links .inline-form { display: inline-flex; }
.panel__intro { color: var(--muted); font-size: .875rem; margin: -.25rem 0 .75rem; }
.panel__note { color: var(--muted); font-size: .875rem; margin: .75rem 0 0; }
.signout { display: flex; flex-wrap: wrap; gap: .75rem; }
.signout .inline-form { display: inline; margin: 0; }
.card--message { text-align: center; }
.request-id code { font-family: var(--mono); font-size: .8125rem; overflow-wrap: anywhere; }

.dialog { border: 1px solid var(--border); border-radius: var(--radius); padding: 1.5rem; max-width: min(28rem, calc(100vw - 2rem)); background: var(--surface); color: var(--text); box-shadow: var(--shadow); }
.dialog::backdrop { background: rgba(16, 24, 40, .45); }
.dialog p { margin: 0 0 1.25rem; color: var(--muted); }
.dialog__actions { display: flex; flex-wrap: wrap; gap: .75rem; justify-content: flex-end; }
.dialog__actions > * { flex: 1 1 auto; }
.dialog__actions .inline-form { display: flex; }
.dialog__actions .inline-form .button { flex: 1; }

.outbox { list-style: none; margin: 1rem 0 0; padding: 0; display: flex; flex-direction: column; gap: .75rem; }
.outbox__meta { margin: 0; color: var(--muted); font-size: .875rem; overflow-wrap: anywhere; }
.outbox__meta strong { color: var(--text); font-weight: 600; }
.outbox__subject { margin: .375rem 0 0; font-weight: 600; }
.outbox__code { margin: .5rem 0; }
.outbox__code code { font-family: var(--mono); font-size: 2rem; font-weight: 700; letter-spacing: .2em; }
.outbox__text { white-space: pre-wrap; overflow-wrap: anywhere; font-family: var(--mono); font-size: .8125rem; margin: .5rem 0 0; }

@media (max-width: 30rem) {
  .main { padding: 1rem .75rem; }
  .topbar__inner { padding: .625rem .75rem; }
  .card { padding: 1.25rem; }
  .steps { padding-left: 1rem; }
  .secret { padding: .5rem; gap: .5rem; }
  .secret code { font-size: .9375rem; letter-spacing: 0; }
  .panel { padding: 1rem; }
  .row { flex-direction: column; align-items: flex-start; gap: .5rem; }
  .codes { columns: 1; }
}
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
@media print {
  .topbar, .footer, .button, form { display: none !important; }
  body { background: #fff; color: #000; }
  .card { box-shadow: none; border: 0; }
}
`;
