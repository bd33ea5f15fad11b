import t from 'tap';
import { request } from 'undici';
import { startStack, type Stack } from '../fixtures/gateway.js';

async function api(stack: Stack, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${stack.url}/_gateway/api/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

function outboxCode(stack: Stack): string {
  const list = stack.gateway.gateway.core.delivery.outbox!.list();
  return /\b(\d{6})\b/.exec(list[list.length - 1]!.text)![1]!;
}

void t.test('a trusted device skips the code at sign-in but is not a fresh factor for a max_auth_age rule', async (t) => {
  const stack = await startStack({
    config: {
      session: { reverify_grace: 0 },
      second_factor: { assignments: [{ group: 'operators', method: 'email' }] },
      access: { default_policy: 'two_factor', rules: [{ paths: ['/admin'], policy: 'two_factor', max_auth_age: '15m' }] },
    },
  });
  t.teardown(() => stack.close());
  const first = await api(stack, 'login', { username: 'alice', password: 'alice-password-1' });
  t.equal(first.json.status, 'second_factor_required');
  const verified = await api(stack, 'verify', { flow: first.json.flow, code: outboxCode(stack), remember_device: true });
  t.equal(verified.status, 200);
  const deviceToken = verified.json.device_token as string;
  t.ok(deviceToken);

  const again = await api(stack, 'login', { username: 'alice', password: 'alice-password-1', device_token: deviceToken });
  t.equal(again.json.status, 'authenticated', 'no code on the trusted device');
  const bearer = { authorization: `Bearer ${again.json.token as string}`, accept: 'application/json' };
  const page = await request(`${stack.url}/cameras`, { headers: bearer });
  t.equal(page.statusCode, 200, 'ordinary two-factor routes pass');
  await page.body.dump();
  const admin = await request(`${stack.url}/admin`, { headers: bearer });
  t.equal(admin.statusCode, 401);
  t.equal(((await admin.body.json()) as { error: string }).error, 'reauthentication_required', 'the step-up rule asks for a fresh code');
});
