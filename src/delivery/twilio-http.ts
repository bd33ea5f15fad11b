import http from 'node:http';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type TwilioResponse from 'twilio/lib/http/response.js';

const TWILIO_HOST = /^[a-z0-9.-]*\.twilio\.com$/i;

/**
 * The twilio SDK's own RequestClient (axios), pointed at another base URL: every `https://*.twilio.com`
 * URL the SDK builds is re-rooted at `baseUrl` (a Twilio-compatible provider, or a test server), keeping
 * the path and query. Without `baseUrl` it is the stock client. The SDK still builds, authenticates,
 * encodes and parses every request.
 */
export class RebasingRequestClient extends twilio.RequestClient {
  readonly #base: URL | undefined;
  readonly #httpAgent: http.Agent;
  readonly #deadline: number;

  constructor(options: { baseUrl?: string | undefined; timeout: number }) {
    super({ timeout: options.timeout, keepAlive: true, autoRetry: false });
    this.#deadline = options.timeout + 1000;
    this.#base = options.baseUrl === undefined ? undefined : new URL(options.baseUrl);
    // The stock client only sets an https agent; a plain-http base URL gets a bounded keep-alive agent we can close.
    this.#httpAgent = new http.Agent({ keepAlive: true, timeout: options.timeout, maxSockets: 20 });
    this.axios.defaults.httpAgent = this.#httpAgent;
  }

  /**
   * axios's timeout is the socket's idle time; a server that drips bytes could hold a request longer, so
   * the whole exchange is also bounded (the timeout plus a second), failing with code ETIMEDOUT.
   */
  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse.default<TData>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('deadline exceeded'), { code: 'ETIMEDOUT' })), this.#deadline);
      timer.unref();
    });
    try {
      return await Promise.race([super.request({ ...opts, uri: this.rebase(opts.uri), logLevel: 'info' }), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  rebase(uri: string): string {
    if (this.#base === undefined) return uri;
    const target = new URL(uri);
    if (!TWILIO_HOST.test(target.hostname)) return uri;
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    return `${this.#base.origin}${prefix}${target.pathname}${target.search}`;
  }

  destroy(): void {
    this.#httpAgent.destroy();
    const httpsAgent = this.axios.defaults.httpsAgent as { destroy?: () => void } | undefined;
    httpsAgent?.destroy?.();
  }
}
