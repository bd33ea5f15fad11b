/**
 * `portcullis hash-password [--algorithm argon2id|scrypt|bcrypt]`: reads one password and prints its hash
 * for the users file. Without a terminal, the password is the first line of stdin (without its newline,
 * at most 4 KiB); on a terminal it is asked twice without echo. Exit 0 with the hash and a newline on
 * stdout; 2 for a usage error, an empty password or two different entries; 1 when hashing fails.
 */
import { HASH_ALGORITHMS, hashPassword, type HashAlgorithm } from '../users/password.js';
import { parseOptions } from './args.js';

export interface HashPasswordIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
}

/** The longest password line accepted, in bytes. */
export const MAX_PASSWORD_BYTES = 4096;

class InputError extends Error {}

export async function hashPasswordCommand(argv: string[], io: HashPasswordIo): Promise<number> {
  const parsed = parseOptions(argv, { '--algorithm': true });
  if (!parsed.ok) return usage(io, parsed.message);
  if (parsed.positionals.length) return usage(io, `unexpected argument '${parsed.positionals[0]}'`);
  const algorithm = parsed.options['--algorithm'] ?? 'argon2id';
  if (typeof algorithm !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(algorithm)) {
    return usage(io, `unknown algorithm '${String(algorithm)}' (use ${HASH_ALGORITHMS.join(', ')})`);
  }

  let password: string;
  // A real terminal is read in raw mode (no echo); anything else line by line.
  const raw = io.isTTY && typeof (io.stdin as NodeJS.ReadableStream & RawCapable).setRawMode === 'function';
  const lines = raw ? undefined : new LineReader(io.stdin);
  try {
    if (io.isTTY) {
      password = await prompt(io, lines, 'Password: ');
      if (password !== '') {
        const again = await prompt(io, lines, 'Password (again): ');
        if (again !== password) return fail(io, 'the two passwords do not match', 2);
      }
    } else {
      password = await lines!.next();
    }
  } catch (err) {
    return fail(io, (err as Error).message, err instanceof InputError ? 2 : 1);
  } finally {
    lines?.close();
  }
  if (password === '') return fail(io, 'empty password', 2);

  try {
    io.stdout.write(`${await hashPassword(password, algorithm as HashAlgorithm)}\n`);
    return 0;
  } catch (err) {
    return fail(io, `hashing failed: ${(err as Error).message}`, 1);
  }
}

/** The first line of the stream without its line ending; fails past MAX_PASSWORD_BYTES. */
export async function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = new LineReader(stream);
  try {
    return await lines.next();
  } finally {
    lines?.close();
  }
}

/** Successive lines of a stream (keeps what follows a line for the next call), each bounded in size. */
class LineReader {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly onData = (chunk: Buffer | string) => {
    this.buffer = Buffer.concat([this.buffer, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    // Bound what is held while no newline has come.
    if (this.buffer.indexOf(0x0a) < 0 && this.buffer.length > MAX_PASSWORD_BYTES) this.stream.pause();
    this.wake?.();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake?.();
  };
  private readonly onError = (err: Error) => {
    this.failure = err;
    this.wake?.();
  };

  constructor(private readonly stream: NodeJS.ReadableStream) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
  }

  async next(): Promise<string> {
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      const lineLength = nl >= 0 ? nl : this.buffer.length;
      if (lineLength > MAX_PASSWORD_BYTES) throw new InputError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
      if (nl >= 0 || this.ended) {
        const line = this.buffer.subarray(0, lineLength).toString('utf8');
        this.buffer = nl >= 0 ? this.buffer.subarray(nl + 1) : Buffer.alloc(0);
        return line.replace(/\r$/, '');
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.stream.resume();
      });
      this.wake = undefined;
    }
  }

  close(): void {
    this.stream.removeListener('data', this.onData);
    this.stream.removeListener('end', this.onEnd);
    this.stream.removeListener('error', this.onError);
    this.stream.pause();
  }
}

interface RawCapable {
  setRawMode?: (raw: boolean) => unknown;
}

/** Asks on stderr and reads one line without echo (raw mode where the stream offers it). */
async function prompt(io: HashPasswordIo, lines: LineReader | undefined, question: string): Promise<string> {
  io.stderr.write(question);
  const tty = io.stdin as NodeJS.ReadableStream & RawCapable;
  if (lines || typeof tty.setRawMode !== 'function') {
    const line = await lines!.next();
    io.stderr.write('\n');
    return line;
  }
  tty.setRawMode(true);
  try {
    return await readRaw(tty);
  } finally {
    tty.setRawMode(false);
    io.stderr.write('\n');
  }
}

/** Raw terminal input: Enter ends, Backspace deletes, Ctrl-C/Ctrl-D abort. Nothing is echoed. */
function readRaw(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stream.removeListener('data', onData);
      stream.pause();
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new InputError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
        if (Buffer.byteLength(value) > MAX_PASSWORD_BYTES) return done(new InputError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`));
      }
    };
    stream.on('data', onData);
    stream.resume();
  });
}

function usage(io: HashPasswordIo, message: string): number {
  io.stderr.write(`portcullis hash-password: ${message}\nusage: portcullis hash-password [--algorithm ${HASH_ALGORITHMS.join('|')}]\n`);
  return 2;
}

function fail(io: HashPasswordIo, message: string, code: number): number {
  io.stderr.write(`portcullis hash-password: ${message}\n`);
  return code;
}
