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
  /**
   * What the next page view of this step should say (post/redirect/get): set by an entrance after a
   * POST, read once by the GET that follows. Plain values only; the entrance gives them meaning.
   */
  flash?: FlowFlash;
}

export type FlowFlash = Readonly<Record<string, string | number | boolean>>;

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

  /** Keeps `flash` for the next page view of the step (replacing an unread one). */
  async setFlash(flow: Flow, flash: FlowFlash): Promise<void> {
    flow.flash = flash;
    await this.save(flow);
  }

  /** The step's flash, removed as it is read: a reload does not show it again. */
  async takeFlash(flow: Flow): Promise<FlowFlash | undefined> {
    const flash = flow.flash;
    if (flash === undefined) return undefined;
    delete flow.flash;
    try {
      await this.save(flow);
    } catch {
      // An expired step: the page it belongs to says so anyway.
    }
    return flash;
  }

  async end(id: string): Promise<void> {
    await this.store.del(`flow:${id}`);
  }
}
