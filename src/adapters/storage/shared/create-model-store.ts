import type { Kysely } from 'kysely';
import type { MessageOutcome } from '../../../ports/model-store.js';
import type { CustomerId } from '../../../core/ids.js';
import type { ModelDraft, ModelStore, ModelVersion } from '../../../ports/model-store.js';
import type { Database, ModelsTable } from './tables.js';

type ModelBody = Omit<ModelDraft, 'kind' | 'status' | 'trainedAtMs' | 'windowEndMs'>;

const toModelVersion = (row: ModelsTable): ModelVersion => {
  const body = JSON.parse(row.body) as ModelBody;
  return {
    version: row.version,
    kind: row.kind,
    status: row.status as ModelVersion['status'],
    trainedAtMs: row.trained_at_ms,
    windowEndMs: row.window_end_ms,
    reason: body.reason,
    windowStartMs: body.windowStartMs,
    features: body.features,
    params: body.params,
    metrics: body.metrics,
    details: body.details,
  };
};

/** The variant a message body names, without keeping the rest of the (possibly large) body. */
const variantOf = (body: string): string | null => {
  const variant = (JSON.parse(body) as { variant?: unknown }).variant;
  return typeof variant === 'string' ? variant : null;
};

/** The model registry and the order reads, written once in Kysely for both dialects. */
export const createModelStore = (db: Kysely<Database>): ModelStore => {
  // The statuses of messages that reached the customer, as conversions are attributed to them.
  const outcomes = (filter: { fromMs: number; beforeMs: number } | { customerId: CustomerId }) => {
    let q = db
      .selectFrom('messages as m')
      .select((eb) => [
        'm.customer_id',
        'm.channel',
        'm.sent_at_ms',
        'm.body',
        eb
          .exists(
            eb
              .selectFrom('conversions as c')
              .select('c.order_id')
              .whereRef('c.decision_id', '=', 'm.id'),
          )
          .as('converted'),
      ])
      .where('m.status', 'in', ['sent', 'complained'])
      .where('m.sent_at_ms', 'is not', null);
    q =
      'customerId' in filter
        ? q.where('m.customer_id', '=', filter.customerId)
        : q.where('m.sent_at_ms', '>=', filter.fromMs).where('m.sent_at_ms', '<', filter.beforeMs);
    return q.orderBy('m.sent_at_ms').execute();
  };
  const toOutcome = (row: Awaited<ReturnType<typeof outcomes>>[number]): MessageOutcome => ({
    customerId: row.customer_id as CustomerId,
    channel: row.channel,
    sentAtMs: row.sent_at_ms ?? 0,
    variant: variantOf(row.body),
    // SQLite answers 0/1, PostgreSQL a boolean.
    converted: Boolean(row.converted),
  });
  return {
    async listMessageOutcomes(fromMs, beforeMs) {
      return (await outcomes({ fromMs, beforeMs })).map(toOutcome);
    },
    async listCustomerMessageOutcomes(customerId) {
      return (await outcomes({ customerId })).map(toOutcome);
    },
    async listOrders(afterOrderId, limit) {
      let q = db
        .selectFrom('orders')
        .selectAll()
        .where('cancelled', '=', 0)
        .orderBy('order_id')
        .limit(limit);
      if (afterOrderId !== null) q = q.where('order_id', '>', afterOrderId);
      return (await q.execute()).map((row) => ({
        orderId: row.order_id,
        customerId: row.customer_id as CustomerId,
        placedAtMs: row.placed_at_ms,
        totalCents: row.total_cents,
      }));
    },
    async listCustomerOrders(customerId) {
      const rows = await db
        .selectFrom('orders')
        .selectAll()
        .where('customer_id', '=', customerId)
        .where('cancelled', '=', 0)
        .orderBy('placed_at_ms')
        .execute();
      return rows.map((row) => ({
        orderId: row.order_id,
        customerId: row.customer_id as CustomerId,
        placedAtMs: row.placed_at_ms,
        totalCents: row.total_cents,
      }));
    },
    saveModel: (draft) =>
      // The next version is read and taken in one transaction; two concurrent trainings on
      // PostgreSQL collide on the primary key and one fails rather than sharing a number.
      db.transaction().execute(async (trx) => {
        const top = await trx
          .selectFrom('models')
          .select((eb) => eb.fn.max('version').as('top'))
          .executeTakeFirst();
        const row: ModelsTable = {
          version: (top?.top ?? 0) + 1,
          kind: draft.kind,
          status: draft.status,
          trained_at_ms: draft.trainedAtMs,
          window_end_ms: draft.windowEndMs,
          body: JSON.stringify({
            reason: draft.reason,
            windowStartMs: draft.windowStartMs,
            features: draft.features,
            params: draft.params,
            metrics: draft.metrics,
            details: draft.details,
          } satisfies ModelBody),
        };
        await trx.insertInto('models').values(row).execute();
        return toModelVersion(row);
      }),
    async listModels(limit) {
      const rows = await db
        .selectFrom('models')
        .selectAll()
        .orderBy('version', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toModelVersion);
    },
    async getModel(version) {
      const row = await db
        .selectFrom('models')
        .selectAll()
        .where('version', '=', version)
        .executeTakeFirst();
      return row === undefined ? undefined : toModelVersion(row);
    },
  };
};
