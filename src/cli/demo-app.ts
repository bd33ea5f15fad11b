/**
 * `portcullis demo-app [--listen HOST:PORT]`: the bundled demo camera app alone, without the gateway, as
 * the upstream of a gateway that runs elsewhere (the Docker Compose stack in deploy/ runs it as its own
 * container). It has no authentication of its own and believes the identity headers it receives: it must
 * be reachable only through the gateway. Listens on 127.0.0.1:8081 unless told otherwise; SIGTERM and
 * SIGINT close it (exit 0). Exit 2 for a usage error, 1 when it cannot listen.
 */
import { parseListen } from '../config/schema/common.js';
import { startDemoApp } from '../demo/app.js';
import { parseOptions } from './args.js';

type Out = { write(chunk: string): unknown };

export const DEFAULT_DEMO_APP_LISTEN = '127.0.0.1:8081';

export interface DemoAppIo {
  stdout: Out;
  stderr: Out;
}

/** Starts the app; resolves with an exit code on a usage error or a failure, undefined while it runs. */
export async function demoAppCommand(argv: string[], io: DemoAppIo): Promise<number | undefined> {
  const parsed = parseOptions(argv, { '--listen': true });
  if (!parsed.ok) return usage(io, parsed.message);
  if (parsed.positionals.length > 0) return usage(io, `unexpected argument '${parsed.positionals[0]}'`);
  const listen = String(parsed.options['--listen'] ?? DEFAULT_DEMO_APP_LISTEN);
  const address = parseListen(listen);
  if (!address) return usage(io, `--listen must be 'host:port' (for example '0.0.0.0:8081') but it's '${listen}'`);

  let app;
  try {
    app = await startDemoApp({ host: address.host, port: address.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr.write(`portcullis demo-app: cannot listen on ${listen}: ${code ?? (err as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`demo app listening on ${app.url} (no authentication: reach it only through the gateway)\n`);
  const stop = (signal: string) => {
    io.stdout.write(`demo app stopping (${signal})\n`);
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return undefined;
}

function usage(io: DemoAppIo, message: string): number {
  io.stderr.write(`portcullis demo-app: ${message}\nUsage: portcullis demo-app [--listen HOST:PORT]\n`);
  return 2;
}
