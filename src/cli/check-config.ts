import { formatProblem, loadConfigFile } from '../config/load.js';

type Out = { write(chunk: string): unknown };

/**
 * `portcullis check-config`: prints `config OK: FILE` and any warnings on stdout and returns 0, or every
 * problem (then the warnings) on stderr, one per line and nothing else, and returns 2.
 */
export async function checkConfigCommand(configPath: string, io: { stdout: Out; stderr: Out }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const result = await loadConfigFile(configPath, env, { checkFiles: true });
  if (result.ok) {
    io.stdout.write(`config OK: ${result.file}\n`);
    for (const w of result.warnings) io.stdout.write(`${formatProblem(w)}\n`);
    return 0;
  }
  for (const p of result.problems) io.stderr.write(`${formatProblem(p)}\n`);
  for (const w of result.warnings) io.stderr.write(`${formatProblem(w)}\n`);
  return 2;
}
