/**
 * Calls `onChange` (debounced) when a file changes. The directory is watched, not the file, so editors
 * and Kubernetes ConfigMaps that replace the file (write a new one, rename it over the old) are seen.
 * The watch does not keep the process alive; call the returned function to stop it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export function watchFile(path: string, onChange: () => void, opts: { debounceMs?: number } = {}): () => void {
  const file = resolve(path);
  const name = basename(file);
  const debounceMs = opts.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let watcher: FSWatcher | undefined;

  const fire = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      try {
        onChange();
      } catch {
        // The caller logs its own failures; a throwing callback must not stop the watch.
      }
    }, debounceMs);
    timer.unref();
  };

  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      // Some platforms do not say which file changed; then any change in the directory counts.
      if (changed === null || changed === undefined || String(changed) === name || String(changed) === '..data') fire();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }

  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
