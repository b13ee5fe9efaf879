import type { JsonObject } from '../core/event.js';
import type { CustomerId } from '../core/ids.js';

/** An order as recorded (one row per order id; a re-sent order counts once). */
export interface StoredOrder {
  orderId: string;
  customerId: CustomerId;
  placedAtMs: number;
  totalCents: number;
}

/** A sent message and whether an order was credited to it (last touch, as conversions record). */
export interface MessageOutcome {
  customerId: CustomerId;
  channel: string;
  sentAtMs: number;
  /** The creative variant (message strategy) it carried in an experiment, else null. */
  variant: string | null;
  converted: boolean;
}

/** Whether a training run fitted anything; when not, `reason` says why. */
export type ModelStatus = 'trained' | 'insufficient-data';

/** One training run as the registry keeps it. */
export interface ModelDraft {
  /** What was trained, e.g. `clv` (BG/NBD + Gamma-Gamma). */
  kind: string;
  status: ModelStatus;
  /** Why nothing was fitted (the data-sufficiency gate), or null. */
  reason: string | null;
  trainedAtMs: number;
  /** The training window: from the first order used (null when there was none) to the cutoff. */
  windowStartMs: number | null;
  windowEndMs: number;
  /** The inputs the model reads. */
  features: string[];
  /** Fitted parameters by sub-model, e.g. `{ bgNbd: { r, alpha, a, b } }`. */
  params: Record<string, Record<string, number>>;
  /** Measured quality, e.g. holdout mean absolute error. */
  metrics: Record<string, number>;
  /** The rest worth keeping: the gate's figures, the settings used. */
  details: JsonObject;
}

/** A registered model version (versions count up from 1). */
export interface ModelVersion extends ModelDraft {
  version: number;
}

/** The model registry and the order history models are trained on. */
export interface ModelStore {
  /**
   * Orders in ascending order id after `afterOrderId`, for training runs that page through all;
   * here and in `listCustomerOrders`, not those their customer cancelled.
   */
  listOrders(afterOrderId: string | null, limit: number): Promise<StoredOrder[]>;
  /** One customer's orders, oldest first. */
  listCustomerOrders(customerId: CustomerId): Promise<StoredOrder[]>;
  /**
   * Messages that reached the customer (`sent`, or `complained` after it) with a send time in
   * [fromMs, beforeMs), and whether a conversion credits each.
   */
  listMessageOutcomes(fromMs: number, beforeMs: number): Promise<MessageOutcome[]>;
  /** The same for one customer, all time. */
  listCustomerMessageOutcomes(customerId: CustomerId): Promise<MessageOutcome[]>;
  /** Registers a training run under the next version number and returns it. */
  saveModel(draft: ModelDraft): Promise<ModelVersion>;
  /** Newest version first. */
  listModels(limit: number): Promise<ModelVersion[]>;
  getModel(version: number): Promise<ModelVersion | undefined>;
}
