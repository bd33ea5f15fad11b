// Wiring lands with the gateway pipeline; the CLI calls these.
export async function serve(_options: { configPath: string }): Promise<void> {
  throw new Error('not wired yet');
}
export async function demo(): Promise<void> {
  throw new Error('not wired yet');
}
