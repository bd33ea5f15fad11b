import type { FactorMethod } from '../config/schema/index.js';
import type { KeyValueStore } from '../store/store.js';
import { PortcullisError } from '../errors/index.js';
import { randomToken } from '../util/random.js';
import type { Clock } from '../util/clock.js';

/** A second-factor step in progress: made after a right password, or for a step-up. */
export interface Flow {
  id: string;
  user: string;
  purpose: 'signin' | 'stepup';
  createdAt: number;
  /** Methods offered, in order; `address` is the real destination (never sent to clients). */
  methods: Array<{ type: FactorMethod; address?: string; destination?: string }>;
  method: FactorMethod;
  deviceId?: string;
  /** Where an email-code fallback goes when SMS fails. */
  fallbackEmail?: string;
  sent?: { channel: 'email' | 'sms'; destination: string; fellBack: boolean; at: number };
}

const FLOW_TTL_MS = 15 * 60_000;

/** Flows live in the store so any gateway instance can finish what another started. */
export class FlowStore {
  constructor(
    private readonly store: KeyValueStore,
    private readonly clock: Clock,
  ) {}

  async create(data: Omit<Flow, 'id' | 'createdAt'>): Promise<Flow> {
    const flow: Flow = { ...data, id: randomToken(24), createdAt: this.clock.now() };
    await this.store.set(`flow:${flow.id}`, JSON.stringify(flow), FLOW_TTL_MS);
    return flow;
  }

  async get(id: unknown): Promise<Flow | undefined> {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    const raw = await this.store.get(`flow:${id}`);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as Flow;
    } catch {
      return undefined;
    }
  }

  async save(flow: Flow): Promise<void> {
    const left = FLOW_TTL_MS - (this.clock.now() - flow.createdAt);
    if (left <= 0) throw new PortcullisError('PORTCULLIS_ERR_CODE_EXPIRED');
    await this.store.set(`flow:${flow.id}`, JSON.stringify(flow), left);
  }

  async end(id: string): Promise<void> {
    await this.store.del(`flow:${id}`);
  }
}
