/**
 * `${ENV_VAR}` in string values, whole or embedded; `$${` stands for a literal `${`. A variable that is
 * not set is an error (never silently empty).
 */
export type Interpolated = { ok: true; value: string; changed: boolean } | { ok: false; message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolate(text: string, env: NodeJS.ProcessEnv): Interpolated {
  if (!text.includes('${')) return { ok: true, value: text, changed: false };
  let out = '';
  let i = 0;
  const missing: string[] = [];
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2);
      if (end < 0) return { ok: false, message: "has '${' without a closing '}' (write '$${' for a literal '${')" };
      const name = text.slice(i + 2, end);
      if (!NAME.test(name)) return { ok: false, message: `has '\${${name.slice(0, 40)}}', which is not an environment variable name` };
      const value = env[name];
      if (value === undefined) missing.push(name);
      else out += value;
      i = end + 1;
      continue;
    }
    out += text[i];
    i++;
  }
  if (missing.length === 1) return { ok: false, message: `environment variable ${missing[0]} is not set` };
  if (missing.length > 1) return { ok: false, message: `environment variables ${missing.join(', ')} are not set` };
  return { ok: true, value: out, changed: true };
}
