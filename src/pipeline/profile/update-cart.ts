import type { HeraldEvent, JsonObject } from '../../core/event.js';
import type { Cart, CartEntry, CartItem } from '../../core/profile.js';
import { DAY_MS } from '../../core/time.js';
import {
  asNumber,
  asObject,
  asString,
  cartQuantityOf,
  centsAt,
  currencyIn,
  pick,
  PRODUCT_ID_KEYS,
  rateOf,
  toCents,
  type Money,
} from '../../core/read-props.js';
import { stampOf } from './stamps.js';

const stampedAtOf = (entry: CartEntry): number => entry.stampedAtMs ?? entry.atMs;

/** Whether change `a` came before `b`: by their times, then by their own stamps. */
const isBefore = (a: CartEntry, b: CartEntry): boolean =>
  a.atMs < b.atMs || (a.atMs === b.atMs && stampedAtOf(a) < stampedAtOf(b));

/** The later of two times, either of which may be unknown. */
const later = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/**
 * When the cart was last closed after an event: an order's time (the latest order closes
 * whatever it follows), or the time of the change that emptied it. With a log of changes, it
 * is read from the log as a replay in time order would close it — the latest order or emptying
 * in it, or what closed the cart before the log starts — so a change arriving before an earlier
 * one ("remove" before its "add", an "add" refilling a cart a later "remove" emptied) closes it
 * at the same moment as in time order.
 */
export const cartClosedAfter = (
  before: Cart | null,
  after: Cart | null,
  event: HeraldEvent,
  closedAtMs: number | undefined,
  log: readonly CartEntry[] | undefined,
  money: Money,
): number | undefined => {
  if (event.type !== 'track') return closedAtMs;
  const entry = entryOf(event, money);
  if (entry === null) return closedAtMs;
  if (entry.kind === 'order') return later(closedAtMs, entry.atMs);
  if (log === undefined)
    return before !== null && after === null ? later(closedAtMs, entry.atMs) : closedAtMs;
  // A change after every other that leaves something in the cart closes nothing (the common
  // case: the log is read only for an emptied cart or a change that arrived late).
  const last = log.at(-1);
  if (after !== null && (last === undefined || !isBefore(entry, last))) return closedAtMs;
  const startMs = log[0]?.atMs;
  const beforeLog =
    closedAtMs !== undefined && (startMs === undefined || closedAtMs <= startMs)
      ? closedAtMs
      : undefined;
  return later(beforeLog, lastClosedAtMs(log));
};

/**
 * Reads a product from Segment e-commerce properties; null without a product or sku id. Its price
 * and margin are converted into `money.currency` at the rate of the currency the product states,
 * else the event's (`inherited`, the `currency` beside `products`), as an order's value is; in a
 * currency with no rate, or past what cents hold exactly once converted, it is unpriced: ¥25,000
 * taken as dollars would put the cart in the top band (docs/profiles.md, "Currencies").
 */
export const toCartItem = (
  props: JsonObject,
  money: Money,
  inherited: string | null = null,
): CartItem | null => {
  const productId = asString(pick(props, ...PRODUCT_ID_KEYS));
  if (productId === null) return null;
  const rate = rateOf(currencyIn(props) ?? inherited, money);
  const price = asNumber(pick(props, 'price'));
  const margin = asNumber(pick(props, 'margin'));
  const priceCents = price === null || rate === null ? null : unitCentsAt(price, rate);
  return {
    productId,
    sku: asString(pick(props, 'sku')),
    name: asString(pick(props, 'name')),
    priceCents: priceCents ?? 0,
    quantity: cartQuantityOf(pick(props, 'quantity')),
    marginCents: margin === null || rate === null ? null : centsAt(toCents(margin), rate),
    ...(priceCents === null ? { unpriced: true as const } : {}),
  };
};

/**
 * A unit price in cents at a currency's rate, not rounded (a cart rounds its lines, not its
 * units: 101 at $0.994 is $100.39, not $99.99); null past what a double holds to the cent.
 */
const unitCentsAt = (price: number, rate: number): number | null => {
  const cents = Number((price * 100 * rate).toPrecision(15));
  return Number.isFinite(cents) && Math.abs(cents) <= Number.MAX_SAFE_INTEGER ? cents : null;
};

const valueOf = (items: readonly CartItem[]): number =>
  items.reduce(
    (sum, item) => sum + Math.round(Number((item.priceCents * item.quantity).toPrecision(15))),
    0,
  );

const withItems = (items: CartItem[], atMs: number): Cart | null =>
  items.length === 0 ? null : { items, valueCents: valueOf(items), updatedAtMs: atMs };

const productsOf = (props: JsonObject, money: Money): CartItem[] | null => {
  const products = props['products'];
  if (!Array.isArray(products)) return null;
  const currency = currencyIn(props);
  return products.flatMap((p) => {
    const item = asObject(p) === null ? null : toCartItem(p as JsonObject, money, currency);
    return item === null ? [] : [item];
  });
};

/**
 * The cart log's limits: at most 50 entries, and none but the newest more than a week older
 * than it. Older ones are folded into one snapshot stamped a week before the newest (or at the
 * last entry folded), so a change stamped before that, arriving now, is taken as stale (as one
 * older than an order is) — except an order, which still takes out of the snapshot what was
 * added at or before it.
 */
export const CART_LOG_KEPT = 50;
/**
 * Distinct products a cart holds: one more added drops the one that has been in it longest.
 * Far more than anyone buys at once; without a bound, each addition copied and folded again a
 * cart that grew with every new product id a write key sent (16,000 items took 59 ms an event,
 * before 2026-12-07).
 */
export const CART_ITEMS_KEPT = 200;
export const CART_LOG_WINDOW_MS = 7 * DAY_MS;

/**
 * The snapshot the log's oldest changes are folded into, with when each of its items was last
 * added (`addedAtMs[i]` for `items[i]`: its latest `Product Added`, or the snapshot event or
 * fold that put it there). An order stamped before the snapshot, arriving late, takes out the
 * items added at or before it, as a rebuild in time order would; without the times it could
 * only be ignored as stale, and what it bought stayed in the cart. Snapshots of `Cart Viewed`
 * and `Checkout Started`, and folds stored before the times were kept, have none.
 */
type FoldedSnapshot = Extract<CartEntry, { kind: 'set' }> & { addedAtMs: number[] };

const isFolded = (entry: CartEntry | undefined): entry is FoldedSnapshot =>
  entry?.kind === 'set' &&
  'addedAtMs' in entry &&
  Array.isArray(entry.addedAtMs) &&
  entry.addedAtMs.length === entry.items.length;

/**
 * A log's changes folded into one snapshot at `atMs`, each item with when it was last added: a
 * plain snapshot's items at its own time (a fold stored before the times were kept is read so
 * too: an order older than it then leaves them, as before), an addition's item at its time.
 */
const foldSnapshot = (log: readonly CartEntry[], atMs: number): FoldedSnapshot => {
  let items: CartItem[] = [];
  // By product id, as additions and removals find an item.
  const addedAtMs = new Map<string, number>();
  for (const entry of log) {
    items = applyChange(items, entry);
    if (entry.kind === 'add') addedAtMs.set(entry.item.productId, entry.atMs);
    else if (entry.kind === 'set') {
      addedAtMs.clear();
      entry.items.forEach((item, i) =>
        addedAtMs.set(
          item.productId,
          isFolded(entry) ? (entry.addedAtMs[i] ?? entry.atMs) : entry.atMs,
        ),
      );
    } else if (entry.kind === 'order') addedAtMs.clear();
  }
  return {
    kind: 'set',
    atMs,
    items,
    addedAtMs: items.map((item) => addedAtMs.get(item.productId) ?? atMs),
  };
};

/**
 * The folded snapshot after a late order at `orderAtMs`, stamped before it: without the items
 * last added at or before the order. One added at the same moment arrived before the order, and
 * a replay orders the events of one moment by arrival, so the order takes it out. Null when the
 * order takes out nothing.
 */
const withoutBoughtBefore = (
  snapshot: FoldedSnapshot,
  orderAtMs: number,
): FoldedSnapshot | null => {
  const items: CartItem[] = [];
  const addedAtMs: number[] = [];
  snapshot.items.forEach((item, i) => {
    const added = snapshot.addedAtMs[i] ?? snapshot.atMs;
    if (added <= orderAtMs) return;
    items.push(item);
    addedAtMs.push(added);
  });
  return items.length === snapshot.items.length
    ? null
    : { kind: 'set', atMs: snapshot.atMs, items, addedAtMs };
};

/**
 * The snapshot a late addition stamped before it tells a price it did not state: its unpriced
 * item of that product takes the addition's price, as a replay in time order would have given
 * it. Null when it changes nothing (the addition has no price, or the snapshot knew one).
 */
const pricedBy = <T extends Extract<CartEntry, { kind: 'set' }>>(
  snapshot: T,
  added: CartItem,
): T | null => {
  if (added.unpriced === true) return null;
  const at = snapshot.items.findIndex(
    (i) => i.productId === added.productId && i.unpriced === true,
  );
  const item = snapshot.items[at];
  if (item === undefined) return null;
  const items = [...snapshot.items];
  items[at] = withKnown(item, added);
  return { ...snapshot, items };
};

/** The change an event makes to the cart, dated as `CartEntry` says; null for none. */
const entryOf = (event: HeraldEvent, money: Money): CartEntry | null => {
  const { atMs, stampedAtMs } = stampOf(event);
  const stamped = stampedAtMs > atMs ? { stampedAtMs } : {};
  switch (event.name) {
    case 'Product Added':
    case 'Product Removed': {
      const item = toCartItem(event.properties, money);
      const unpriced = item?.unpriced === true ? { unpriced: true as const } : {};
      return item === null
        ? null
        : {
            kind: event.name === 'Product Added' ? 'add' : 'remove',
            atMs,
            item,
            ...unpriced,
            ...stamped,
          };
    }
    case 'Cart Viewed':
    case 'Checkout Started': {
      const items = productsOf(event.properties, money);
      return items === null ? null : { kind: 'set', atMs, items, ...stamped };
    }
    case 'Order Completed':
      return { kind: 'order', atMs, ...stamped };
    default:
      return null;
  }
};

/** An item without its `unpriced` mark (set again where it still holds). */
const withoutUnpriced = (item: CartItem): CartItem => {
  if (item.unpriced === undefined) return item;
  const copy = { ...item };
  delete copy.unpriced;
  return copy;
};

/**
 * A snapshot's item with what the cart knew of the same product where the snapshot does not
 * say (a cart page's `Cart Viewed` naming only ids): its price, margin, sku and name. The cart
 * holds the same and is worth the same — an offer made for it still fits it.
 */
const withKnown = (item: CartItem, known: CartItem | undefined): CartItem => {
  if (known === undefined) return item;
  // An item kept before items carried the mark, at no price, is taken as unpriced.
  const priceKnown = known.unpriced !== true && known.priceCents > 0;
  const priced =
    item.unpriced === true && priceKnown
      ? { ...withoutUnpriced(item), priceCents: known.priceCents }
      : item;
  return {
    ...priced,
    sku: item.sku ?? known.sku,
    name: item.name ?? known.name,
    marginCents: item.marginCents ?? known.marginCents,
  };
};

/** A snapshot's items, each with what `items` (the cart before it) knew of its product. */
const resolvedAgainst = (snapshot: readonly CartItem[], items: readonly CartItem[]): CartItem[] => {
  if (items.length === 0) return [...snapshot];
  const known = new Map(items.map((i) => [i.productId, i]));
  return snapshot.map((item) => withKnown(item, known.get(item.productId)));
};

const applyChange = (items: CartItem[], entry: CartEntry): CartItem[] => {
  switch (entry.kind) {
    case 'set':
      return entry.items.slice(-CART_ITEMS_KEPT);
    case 'order':
      return [];
    case 'add': {
      const next = [...items];
      const index = next.findIndex((i) => i.productId === entry.item.productId);
      const existing = next[index];
      // The entry's own mark counts too: one logged before items carried it has it alone.
      if (existing === undefined) {
        if (next.length >= CART_ITEMS_KEPT) next.splice(0, next.length - CART_ITEMS_KEPT + 1);
        next.push(entry.unpriced === true ? { ...entry.item, unpriced: true } : entry.item);
      } else {
        // What the new addition does not say (a quantity stepper's event without a margin or a
        // price) stays as known: a missing margin must not drop the product from the top by
        // margin, nor a missing price make the cart worth less. Applied
        // in time order from the log, so a rebuild comes to the same item.
        next[index] = {
          ...withoutUnpriced(existing),
          ...withoutUnpriced(entry.item),
          sku: entry.item.sku ?? existing.sku,
          name: entry.item.name ?? existing.name,
          marginCents: entry.item.marginCents ?? existing.marginCents,
          priceCents: entry.unpriced === true ? existing.priceCents : entry.item.priceCents,
          quantity: existing.quantity + entry.item.quantity,
          // Its price is unknown until an event of it states one (an item kept before items
          // carried the mark, at no price, is taken as unpriced: the safer reading).
          ...(entry.unpriced === true && (existing.unpriced === true || existing.priceCents === 0)
            ? { unpriced: true }
            : {}),
        };
      }
      return next;
    }
    case 'remove':
      return items.flatMap((i) => {
        if (i.productId !== entry.item.productId) return [i];
        const quantity = i.quantity - entry.item.quantity;
        return quantity > 0 ? [{ ...i, quantity }] : [];
      });
  }
};

/** When a log's changes last closed the cart: an order, or a change that emptied it. */
const lastClosedAtMs = (log: readonly CartEntry[]): number | undefined => {
  let items: CartItem[] = [];
  let closedAtMs: number | undefined;
  for (const entry of log) {
    const next = applyChange(items, entry);
    if (entry.kind === 'order' || (items.length > 0 && next.length === 0)) closedAtMs = entry.atMs;
    items = next;
  }
  return closedAtMs;
};

/** The cart a log (in time order, a snapshot or order first if any) comes to. */
const foldCart = (log: readonly CartEntry[]): Cart | null => {
  let items: CartItem[] = [];
  let atMs = 0;
  for (const entry of log) {
    items = applyChange(items, entry);
    atMs = entry.atMs;
  }
  return withItems(items, atMs);
};

/**
 * The log of a profile kept before there was one: its cart as a snapshot at its last change,
 * or — no cart, but closed — an order at that moment.
 */
const logOf = (
  cart: Cart | null,
  cartLog: readonly CartEntry[] | undefined,
  closedAtMs: number | undefined,
): CartEntry[] => {
  if (cartLog !== undefined) return [...cartLog];
  if (cart !== null) return [{ kind: 'set', atMs: cart.updatedAtMs, items: cart.items }];
  return closedAtMs === undefined ? [] : [{ kind: 'order', atMs: closedAtMs }];
};

/**
 * The open cart and its log after an e-commerce event. A change older than the latest order or
 * snapshot is ignored (a late `Product Added` never reopens a cart a later order closed), but
 * for an order older than a fold of the log, which takes out of it what was added at or before
 * the order; any other change lands at its time, and the cart is folded again from the log.
 */
export const updateCart = (
  cart: Cart | null,
  cartLog: readonly CartEntry[] | undefined,
  closedAtMs: number | undefined,
  event: HeraldEvent,
  money: Money,
): { cart: Cart | null; cartLog: readonly CartEntry[] | undefined } => {
  const parsed = entryOf(event, money);
  if (parsed === null) return { cart, cartLog };
  const log = logOf(cart, cartLog, closedAtMs);
  const base = log[0];
  // Before the snapshot or order the log starts from: it changed a cart since replaced — but
  // an order older than a fold of the log's changes still takes out what was added before it.
  if (
    base !== undefined &&
    (base.kind === 'set' || base.kind === 'order') &&
    isBefore(parsed, base)
  ) {
    const changed =
      parsed.kind === 'order' && isFolded(base)
        ? withoutBoughtBefore(base, parsed.atMs)
        : base.kind === 'set' && parsed.kind === 'add'
          ? pricedBy(base, parsed.item)
          : null;
    if (changed === null) return { cart, cartLog: log };
    log[0] = changed;
    return { cart: foldCart(log), cartLog: log };
  }
  // After every entry of its time or earlier: events of one moment apply in arrival order.
  let at = log.length;
  for (let prev = log[at - 1]; prev !== undefined && isBefore(parsed, prev); prev = log[at - 1])
    at -= 1;
  // A snapshot is kept with what the cart before it knew of its products (a cart page naming
  // only ids): the log drops what precedes it, and a fold again must come to the same cart.
  const entry: CartEntry =
    parsed.kind === 'set'
      ? { ...parsed, items: resolvedAgainst(parsed.items, foldCart(log.slice(0, at))?.items ?? []) }
      : parsed;
  log.splice(at, 0, entry);
  // From the latest snapshot or order on; past the limit, the oldest changes become one.
  let from = 0;
  for (let i = log.length - 1; i >= 0; i -= 1) {
    const kind = log[i]?.kind;
    if (kind === 'set' || kind === 'order') {
      from = i;
      break;
    }
  }
  let kept = log.slice(from);
  const newest = kept.at(-1)?.atMs ?? entry.atMs;
  // The entries to fold into one snapshot: those more than the window older than the newest,
  // and as many more of the oldest as keep the log (its snapshot included) to the limit.
  let folding = Math.max(0, kept.length - (CART_LOG_KEPT - 1));
  while (folding < kept.length - 1 && (kept[folding]?.atMs ?? 0) < newest - CART_LOG_WINDOW_MS)
    folding += 1;
  const first = kept[0]?.kind;
  const alreadyOne = folding === 1 && (first === 'set' || first === 'order');
  if (folding > 0 && !alreadyOne) {
    const folded = kept.slice(0, folding);
    // Stamped at the last change it holds: a change older than that, arriving now, is stale,
    // as one older than an order is. Stamped at the window's start, it made stale changes it
    // never held (a late removal that changed nothing, folded alone, dropped every addition of
    // the week before the window that came after it).
    const atMs = folded.at(-1)?.atMs ?? entry.atMs;
    kept = [foldSnapshot(folded, atMs), ...kept.slice(folding)];
  }
  // Arrived in time order (the common case): the cart is the one before with this change, as
  // folding keeps what the log comes to; only a change landing before others folds again.
  const appended = at === log.length - 1;
  return {
    cart: appended ? withItems(applyChange(cart?.items ?? [], entry), entry.atMs) : foldCart(kept),
    cartLog: kept,
  };
};
