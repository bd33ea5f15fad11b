import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { factorMethod } from '../config/schema/second-factor.js';
import { isSupportedHash } from './password.js';

/**
 * The users file (SPEC §2): `users:` maps a username to its entry. Usernames are matched exactly as
 * written (case-sensitively): `Alice` and `alice` are two different users.
 */
export const E164_RE = /^\+[1-9]\d{6,14}$/;
const USERNAME_RE = /^[^\s\p{Cc}]{1,256}$/u;

const quotedString = (what: string) =>
  z.string({
    error: (iss) =>
      typeof iss.input === 'number' ? `must be quoted: YAML reads ${String(iss.input)} as a number, write "${what}"` : `must be a string`,
  });

export const fileUserSchema = z.strictObject({
  display_name: z.string().min(1).optional(),
  email: z.email({ error: (iss) => `must be an email address but it's configured as '${String(iss.input)}'` }).optional(),
  phone: quotedString('+4915112345678')
    .regex(E164_RE, { error: (iss) => `must be an E.164 phone number such as '+4915112345678' but it's configured as '${String(iss.input)}'` })
    .optional(),
  groups: z.array(z.string().min(1)).default([]),
  /** A PHC/modular-crypt hash from `portcullis hash-password`. Without one, the user cannot sign in with a password. */
  password: z
    .string()
    .refine(isSupportedHash, { error: 'must be an argon2 ($argon2id$…), scrypt ($scrypt$…) or bcrypt ($2b$…) hash from `portcullis hash-password`' })
    .optional(),
  disabled: z.boolean().default(false),
  second_factor: z.strictObject({ method: factorMethod.optional(), enabled: z.boolean().optional() }).optional(),
});

export type FileUser = z.infer<typeof fileUserSchema>;

export const usersFileSchema = z.strictObject({
  users: z
    .record(
      z
        .string()
        .regex(USERNAME_RE, 'a username must be 1-256 characters without spaces or control characters'),
      fileUserSchema,
    )
    .nullable()
    .transform((v) => v ?? {}),
});

export interface FileProblem {
  line: number;
  col: number;
  path: string;
  message: string;
}

export type ParseResult = { ok: true; users: Map<string, FileUser> } | { ok: false; problems: FileProblem[] };

/** Parses and validates the users file, collecting every problem with its line and column. */
export function parseUsersFile(text: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: FileProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({ line: pos.line, col: pos.col, path: '', message: err.message.split('\n')[0]! });
  }
  // Objects drop a `__proto__` key on the way to zod; refuse it rather than lose the user silently.
  const usersNode = doc.get('users', true);
  if (isMap(usersNode)) {
    for (const pair of usersNode.items) {
      const key = pair.key as { value?: unknown; range?: [number, number, number] } | null;
      if (key?.value === '__proto__' && key.range) {
        const pos = lineCounter.linePos(key.range[0]);
        problems.push({ line: pos.line, col: pos.col, path: 'users.__proto__', message: "'__proto__' cannot be a username" });
      }
    }
  }
  if (problems.length) return { ok: false, problems };
  const parsed = usersFileSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      // An unknown key is reported where it is written, not at its parent.
      const at = issue.code === 'unrecognized_keys' && issue.keys.length ? [...path, issue.keys[0]!] : path;
      const pos = positionOf(doc, lineCounter, at);
      // A bad record key carries the key schema's own message inside.
      const message = issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message;
      problems.push({ line: pos.line, col: pos.col, path: path.join('.'), message });
    }
    return { ok: false, problems };
  }
  return { ok: true, users: new Map(Object.entries(parsed.data.users)) };
}

/** The position of the deepest node on `path` that exists (a missing key points at its parent). */
function positionOf(doc: Document, lineCounter: LineCounter, path: string[]): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    // A record-key issue (unknown key, bad username) is best reported at the key itself.
    const parent = depth > 0 ? doc.getIn(sub.slice(0, -1), true) : undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === sub[sub.length - 1]);
      const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
      if (range) return lineCounter.linePos(range[0]);
    }
    const node = depth === 0 ? doc.contents : doc.getIn(sub, true);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range) return lineCounter.linePos(range[0]);
  }
  return { line: 1, col: 1 };
}

export function formatProblems(file: string, problems: FileProblem[]): string {
  return problems.map((p) => `${file}:${p.line}:${p.col}${p.path ? ` ${p.path}` : ''}: ${p.message}`).join('\n');
}
