import type { CustomerId } from '../../../core/ids.js';
import { campaignTurnKey, resumedTurnInfix } from '../../../ports/decide-store.js';
import { reasonCodeSql } from './hand-over.js';
import type { SqlRunner } from './sql-runner.js';

/**
 * The customers of a campaign (of `customerIds`, or all) whose every message of it the budget
 * blocked (`budget_exhausted`) and whose next turn no raise has given yet — no work under
 * `campaignTurnKey(customer, campaign, n)`, n the count of those messages — with that n. What a
 * relaunch with a raised budget resumes and what `GET /v1/campaigns/:id` reports waiting: one
 * query, so the two cannot disagree. Not a customer with a turn of the campaign still pending,
 * whatever its key: a merge leaves the turns of records the budget blocked and counts their
 * messages together, and another turn beside a pending one reached them twice.
 */
export const budgetBlockedCustomers = async (
  sql: SqlRunner,
  campaignId: string,
  customerIds: readonly CustomerId[] | null = null,
): Promise<Map<CustomerId, number>> => {
  if (customerIds?.length === 0) return new Map();
  const pg = sql.dialect === 'postgres';
  const among =
    customerIds === null
      ? ''
      : pg
        ? 'AND customer_id = ANY(?::text[])'
        : `AND customer_id IN (${customerIds.map(() => '?').join(', ')})`;
  const rows = await sql.all<{ customer_id: CustomerId; n: number | string }>(
    `WITH blocked AS (
       SELECT customer_id, COUNT(*) AS n FROM messages WHERE campaign_id = ? ${among}
       GROUP BY customer_id
       HAVING SUM(CASE WHEN status = 'blocked'
         AND ${reasonCodeSql(sql.dialect)} = 'budget_exhausted' THEN 0 ELSE 1 END) = 0)
     SELECT customer_id, n FROM blocked
     WHERE NOT EXISTS (SELECT 1 FROM work t
         WHERE t.key = blocked.customer_id || ? || ${pg ? 'blocked.n::text' : 'blocked.n'})
       AND NOT EXISTS (SELECT 1 FROM work w WHERE w.customer_id = blocked.customer_id
         AND w.status = 'pending'
         AND (w.key = w.customer_id || ? OR substr(w.key, 1, length(w.customer_id || ?)) = w.customer_id || ?))`,
    [
      campaignId,
      ...(customerIds === null ? [] : pg ? [[...customerIds]] : customerIds),
      resumedTurnInfix(campaignId),
      campaignTurnKey('', campaignId),
      // Every resumed turn's key begins so: compared as text, not by a range (PostgreSQL's
      // collations other than C order punctuation otherwise).
      resumedTurnInfix(campaignId),
      resumedTurnInfix(campaignId),
    ],
  );
  return new Map(rows.map((r) => [r.customer_id, Number(r.n)]));
};
