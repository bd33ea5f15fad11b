/**
 * Open WebSocket (upgraded) connections, counted per upstream and per client address, so that one client
 * or one burst cannot hold more sockets than `upstreams[].max_connections` (per upstream) and
 * `server.limits.max_websockets_per_client` allow. Long-lived: a config reload keeps the counts of the
 * sockets that stay open; the limits are read at each acquisition.
 */
export class UpgradeLimits {
  private readonly perUpstream = new Map<string, number>();
  private readonly perClient = new Map<string, number>();

  /**
   * Takes a slot for `upstream` and `client`, or answers which limit is full. The returned release is
   * idempotent (a socket may report close and error).
   */
  acquire(upstream: string, upstreamMax: number, client: string, clientMax: number): { release: () => void } | 'upstream_full' | 'client_full' {
    const u = this.perUpstream.get(upstream) ?? 0;
    if (u >= upstreamMax) return 'upstream_full';
    const c = this.perClient.get(client) ?? 0;
    if (c >= clientMax) return 'client_full';
    this.perUpstream.set(upstream, u + 1);
    this.perClient.set(client, c + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        decrement(this.perUpstream, upstream);
        decrement(this.perClient, client);
      },
    };
  }

  open(upstream: string): number {
    return this.perUpstream.get(upstream) ?? 0;
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
