import { Secret, TOTP } from 'otpauth';
import type { Browser, Response } from '../fixtures/browser.js';
import type { Stack } from '../fixtures/gateway.js';

/** The latest code in the console outbox for `to` (email or SMS). */
export function outboxCode(stack: Stack, to: string, length = 6): string {
  const list = stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === to);
  const text = list[list.length - 1]?.text ?? '';
  const m = new RegExp(`\\b([0-9]{${length}})\\b`).exec(text);
  if (!m) throw new Error(`no code in the outbox for ${to}`);
  return m[1]!;
}

export function outboxSubjects(stack: Stack, to: string): string[] {
  return stack.gateway.gateway.core.delivery.outbox!.list().filter((m) => m.to === to).map((m) => m.subject ?? '');
}

/** Signs in with the password from the login page (fresh CSRF); answers the POST's response. */
export async function passwordStep(b: Browser, username: string, password: string, rd = '/'): Promise<Response> {
  await b.get(`/_gateway/login?rd=${encodeURIComponent(rd)}`);
  return b.post('/_gateway/login', { username, password, csrf: b.csrf(), rd });
}

/** The base32 secret shown on the TOTP enrolment page. */
export function shownSecret(page: string): string {
  const m = /<code id="totp-secret">([\s\S]*?)<\/code>/.exec(page);
  if (!m) throw new Error('no secret on the page');
  // Groups of four, each in its own span (kept whole when the line wraps).
  const secret = m[1]!.replace(/<[^>]*>/g, '').replace(/\s+/g, '');
  if (!/^[A-Z2-7]+$/.test(secret)) throw new Error('no secret on the page');
  return secret;
}

export function totpCode(secret: string, now: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: now });
}

/** The recovery codes listed on a recovery-codes page. */
export function shownRecoveryCodes(page: string): string[] {
  const list = /<ol class="codes" id="recovery-codes">([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '';
  return [...list.matchAll(/<code>([A-Z0-9-]+)<\/code>/g)].map((m) => m[1]!);
}

/** The hidden ids of the remove forms posting to `action` on the last page. */
export function formIds(page: string, action: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<form method="post" action="${action.replace(/\//g, '\\/')}"[^>]*>[\\s\\S]*?name="id" value="([^"]+)"`, 'g');
  for (const m of page.matchAll(re)) out.push(m[1]!);
  return out;
}
