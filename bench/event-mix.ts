/**
 * A realistic e-commerce event mix as Segment batch bodies, generated cheaply on the fly so the
 * load generator stays light: page views, product views, cart changes, email engagement, orders
 * and identifies over a fixed population of customers.
 */
const context = {
  library: { name: 'analytics-node', version: '3.1.0' },
  ip: '203.0.113.7',
  userAgent:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  locale: 'en-US',
  timezone: 'Europe/Berlin',
};
const contextJson = JSON.stringify(context);

export interface MixOptions {
  customers: number;
  /** Prefix making message ids unique across runs and generators. */
  runId: string;
}

export const createEventMix = ({ customers, runId }: MixOptions) => {
  let seq = 0;
  let seed = 42;
  const rand = () => {
    // xorshift32: deterministic and cheap.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const event = (now: number): string => {
    seq += 1;
    const user = `cust-${Math.floor(rand() * customers)}`;
    const head = `"messageId":"${runId}-${seq}","userId":"${user}","timestamp":"${new Date(now - Math.floor(rand() * 60_000)).toISOString()}","context":${contextJson}`;
    const r = rand();
    const product = `p-${Math.floor(rand() * 500)}`;
    if (r < 0.3)
      return `{"type":"page",${head},"name":"Product","properties":{"path":"/products/${product}","title":"Product ${product}","url":"https://shop.example.com/products/${product}"}}`;
    if (r < 0.6)
      return `{"type":"track",${head},"event":"Product Viewed","properties":{"product_id":"${product}","price":${(10 + rand() * 90).toFixed(2)},"category":"Apparel"}}`;
    if (r < 0.72)
      return `{"type":"track",${head},"event":"Product Added","properties":{"product_id":"${product}","sku":"SKU-${product}","name":"Product ${product}","price":${(10 + rand() * 90).toFixed(2)},"quantity":1}}`;
    if (r < 0.82)
      return `{"type":"track",${head},"event":"Email Opened","properties":{"email_id":"e-${seq}","campaign":"weekly"}}`;
    if (r < 0.87)
      return `{"type":"track",${head},"event":"Email Link Clicked","properties":{"email_id":"e-${seq}","link_url":"https://shop.example.com/sale"}}`;
    if (r < 0.9)
      return `{"type":"track",${head},"event":"Checkout Started","properties":{"order_id":"o-${runId}-${seq}","value":42.5,"products":[{"product_id":"${product}","price":42.5,"quantity":1}]}}`;
    if (r < 0.94)
      return `{"type":"track",${head},"event":"Order Completed","properties":{"order_id":"o-${runId}-${seq}","total":${(20 + rand() * 200).toFixed(2)},"currency":"USD","products":[{"product_id":"${product}","price":42.5,"quantity":1}]}}`;
    return `{"type":"identify",${head},"traits":{"email":"${user}@example.com","plan":"${rand() < 0.5 ? 'free' : 'pro'}","address":{"country":"DE","city":"Berlin"},"consent":{"email":{"marketing":true}}}}`;
  };
  return {
    event,
    batch(size: number, now: number): string {
      const events = Array.from({ length: size }, () => event(now));
      return `{"batch":[${events.join(',')}],"sentAt":"${new Date(now).toISOString()}"}`;
    },
  };
};
