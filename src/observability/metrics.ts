import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics (SPEC §5), served on the admin listener only. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'upstream' | 'status'>;
  readonly requestDuration: Histogram<'upstream'>;
  readonly logins: Counter<'result' | 'reason'>;
  readonly secondFactor: Counter<'method' | 'result'>;
  readonly codesSent: Counter<'channel'>;
  readonly deliveryFailures: Counter<'channel' | 'reason'>;
  readonly lockouts: Counter;
  readonly activeSessions: Gauge;
  readonly storeLatency: Histogram<'op'>;
  readonly storeErrors: Counter;
  readonly decisions: Counter<'policy' | 'result'>;
  readonly idpSignIns: Counter<'provider' | 'outcome'>;
  readonly connectionsRevoked: Counter<'kind' | 'reason'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
    this.requests = new Counter({ name: 'portcullis_http_requests_total', help: 'Proxied requests by upstream and status', labelNames: ['upstream', 'status'], registers });
    this.requestDuration = new Histogram({
      name: 'portcullis_http_request_duration_seconds',
      help: 'Time to response headers by upstream',
      labelNames: ['upstream'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.logins = new Counter({ name: 'portcullis_logins_total', help: 'Password sign-in outcomes', labelNames: ['result', 'reason'], registers });
    this.secondFactor = new Counter({ name: 'portcullis_second_factor_total', help: 'Second-factor outcomes by method', labelNames: ['method', 'result'], registers });
    this.codesSent = new Counter({ name: 'portcullis_codes_sent_total', help: 'One-time codes sent by channel', labelNames: ['channel'], registers });
    this.deliveryFailures = new Counter({ name: 'portcullis_delivery_failures_total', help: 'Delivery failures by channel and reason', labelNames: ['channel', 'reason'], registers });
    this.lockouts = new Counter({ name: 'portcullis_lockouts_total', help: 'Accounts locked after too many wrong codes', registers });
    this.activeSessions = new Gauge({ name: 'portcullis_active_sessions', help: 'Sessions created minus ended by this process', registers });
    this.storeLatency = new Histogram({ name: 'portcullis_store_latency_seconds', help: 'Session store operation latency', labelNames: ['op'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers });
    this.storeErrors = new Counter({ name: 'portcullis_store_errors_total', help: 'Session store errors', registers });
    this.decisions = new Counter({ name: 'portcullis_access_decisions_total', help: 'Access decisions by policy and result', labelNames: ['policy', 'result'], registers });
    this.connectionsRevoked = new Counter({
      name: 'portcullis_connections_closed_by_revocation_total',
      help: 'Open WebSockets and streaming responses closed because their session ended (revoked) or ran out (expired, idle)',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.idpSignIns = new Counter({ name: 'portcullis_idp_sign_ins_total', help: 'Sign-ins through identity providers by provider and outcome', labelNames: ['provider', 'outcome'], registers });
  }
}
