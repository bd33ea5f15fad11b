import type { ViewContext } from './context.js';
import { html, type Html } from './html.js';

const PATTERNS: Record<string, { pattern: string; inputmode: string; autocapitalize: string }> = {
  digits: { pattern: '[0-9]*', inputmode: 'numeric', autocapitalize: 'off' },
  letters: { pattern: '[A-Za-z]*', inputmode: 'text', autocapitalize: 'characters' },
  alphanumeric: { pattern: '[A-Za-z0-9]*', inputmode: 'text', autocapitalize: 'characters' },
  alphanumeric_mixed_case: { pattern: '[A-Za-z0-9]*', inputmode: 'text', autocapitalize: 'off' },
};

/**
 * The one-time code input. `length`/`charset` describe the expected code; a charset of
 * `recovery` means free text (recovery codes may contain dashes).
 */
export function codeInput(
  ctx: ViewContext,
  opts: { length: number; charset: string; invalid?: boolean; describedBy?: string; autofocus?: boolean; label?: string },
): Html {
  const p = PATTERNS[opts.charset];
  const sized = p !== undefined && opts.length > 0;
  const attrs = sized
    ? html` inputmode="${p.inputmode}" pattern="${p.pattern}" minlength="${opts.length}" maxlength="${opts.length}" size="${Math.max(opts.length, 6)}" autocapitalize="${p.autocapitalize}" data-autosubmit="${opts.length}"`
    : html` inputmode="text" maxlength="64" autocapitalize="off"`;
  return html`<div class="field">
<label for="code">${opts.label ?? ctx.t.t('verify.code_label')}</label>
<input id="code" name="code" type="text" class="input--code" autocomplete="one-time-code" autocorrect="off" spellcheck="false" required${attrs}${opts.invalid ? html` aria-invalid="true"` : ''}${opts.describedBy ? html` aria-describedby="${opts.describedBy}"` : ''}${opts.autofocus === false ? '' : html` autofocus`}>
</div>`;
}
