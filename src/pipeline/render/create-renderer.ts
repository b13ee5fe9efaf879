import { bodyEndOf, escapeHtml, htmlLinksIn } from '../../core/html.js';
import { Liquid, type Template as LiquidTemplate } from 'liquidjs';
import type { Decision } from '../../core/decision.js';
import type { MessageClass, RenderedContent, WhatsAppCall } from '../../core/message.js';
import { namesOf, type Channel, type ProfileState } from '../../core/profile.js';
import { localDate, localMinuteOfDay } from '../../core/local-time.js';
import { keptIn } from '../../core/kept.js';
import { MINUTE_MS } from '../../core/time.js';
import { resolveTimezone } from '../../core/quiet-hours.js';
import { signMessageToken } from '../../core/signed-token.js';
import { shownHtml, visibleHtmlText, visibleText } from '../../core/visible-text.js';
import { describeUnsafeOutput, findUnsafeOutputs } from './find-unsafe-outputs.js';
import type { Template } from './template.js';
import { maskLiquid } from '../../core/mask-liquid.js';
import {
  compileSubset,
  HTML_LIQUID_OPTIONS,
  LIQUID_OPTIONS,
  renderSubset,
  type OutputMode,
  type SubsetTemplate,
} from './liquid-subset.js';
import {
  hostOfLink,
  linkHostsInHtml,
  linkHostsInText,
  shopHostsOf,
} from '../../core/link-hosts.js';
import {
  htmlLinkHostsIn,
  linkHostsIn,
  linksInText,
  openPixelUrl,
  trackHtmlLinks,
  trackLinks,
  type LinkContext,
} from './track-links.js';

/** The sender and the links every message is rendered with (`messages:` in the config). */
export interface RenderSettings {
  brandName: string;
  from: string;
  replyTo: string | null;
  /** The sender's physical postal address, printed in every marketing email's footer. */
  postalAddress: string | null;
  /** Base of tracking and unsubscribe links. */
  publicUrl: string;
  /** Where calls to action point. */
  shopUrl: string;
  linkSecret: string;
  /**
   * The zone of a customer whose profile, country and all name none (`decide.quietHours.
   * defaultTimezone`): dates a customer reads are their own. Default UTC.
   */
  defaultTimezone?: string;
  /**
   * The ISO 4217 currency Herald keeps amounts in (`profile.currency`): the cart's `total` is
   * written in it (`€129.90`). Default USD.
   */
  currency?: string;
}

export interface RenderInput {
  messageId: string;
  channel: Channel;
  template: Template;
  /** The message's class (`messageClassOf`): marketing email gets the footer. */
  messageClass: MessageClass;
  profile: ProfileState | undefined;
  decision: Decision;
}

/** The message a reviewer's edits apply to. */
export interface EditedMessage {
  messageId: string;
  channel: Channel;
  /** The template it was rendered from (its links' `utm_content`). */
  templateName: string;
  marketing: boolean;
  decision: Decision;
}

export type ContentEdits = Partial<
  Pick<RenderedContent, 'subject' | 'preheader' | 'body' | 'html'>
>;

export interface Renderer {
  /** The template by name, or undefined. */
  templateOf(name: string): Template | undefined;
  /** Renders a message; throws with the template's name and the Liquid error when it cannot. */
  render(input: RenderInput): RenderedContent;
  /**
   * A rendered message with a reviewer's edits, finished as rendering finishes copy: links in
   * edited text are tracked, and an edited marketing email that lost its footer (the postal
   * address and the unsubscribe link) gets it back, as an edited HTML part its open pixel.
   * Copy that kept them (a reviewer mending a word) is not given them twice.
   */
  withEdits(message: EditedMessage, content: RenderedContent, edits: ContentEdits): RenderedContent;
  /**
   * Adds a template made at run time (a creative variant) unless the same one is loaded; it is
   * parsed once, and kept while it is among the `RUN_TIME_TEMPLATES_KEPT` loaded most recently
   * (load it again before each render). Throws when it does not parse, or when another
   * template has its name.
   */
  load(template: Template): void;
  /**
   * The hosts a message of this template may link to (`linkHostsInText`, lower case, punycode):
   * those the template itself names, in links or in its copy, and the shop's and Herald's own
   * (`HERALD_SHOP_URL`, `HERALD_PUBLIC_URL`). A template made at run time (a creative variant,
   * written by a model or the composer) or none at all gets the shop's and Herald's alone.
   */
  linkHostsOf(templateName: string | null): ReadonlySet<string>;
}

/**
 * Templates made at run time a renderer keeps parsed at most: each campaign's variants add
 * theirs, and a worker that runs for months must not keep every copy it ever sent.
 */
export const RUN_TIME_TEMPLATES_KEPT = 1_000;

/** Whether two templates would render the same messages. */
const sameTemplate = (a: Template, b: Template): boolean =>
  a === b ||
  (a.class === b.class &&
    a.topic === b.topic &&
    a.subject === b.subject &&
    a.preheader === b.preheader &&
    a.text === b.text &&
    a.html === b.html &&
    JSON.stringify(a.whatsapp) === JSON.stringify(b.whatsapp));

/** A part parsed by liquidjs, and compiled to the subset rendered without it where it can be. */
interface Part {
  liquid: LiquidTemplate[];
  subset: SubsetTemplate | null;
  /** `html` for the HTML part, whose output is escaped; `text` for every other. */
  mode: OutputMode;
}

interface Parsed {
  subject: Part;
  preheader: Part;
  text: Part;
  html: Part | null;
  whatsapp: { name: string; language: Part; parameters: Part[] };
  /** Hosts its links may be tracked to: those the template and the shop link to. */
  linkHosts: ReadonlySet<string>;
  /** Hosts its messages may link to: see `Renderer.linkHostsOf`. */
  allowedHosts: ReadonlySet<string>;
}

/** Meta's template names have no hyphens: `order-shipped` stands for `order_shipped`. */
export const whatsAppNameOf = (template: Template): string =>
  template.whatsapp?.name ?? template.name.replaceAll('-', '_');

// Meta refuses a variable with a line break, a tab or more than four spaces in a row.
const asParameter = (text: string): string => text.replace(/\s+/g, ' ').trim();

const trimUrl = (url: string): string => url.replace(/\/+$/, '');

// One formatter for every message: Liquid's `date` filter builds an Intl formatter per call.
/** What one render may create (liquidjs counts array and string lengths): far past any message. */
export const RENDER_MEMORY_LIMIT = 2_000_000;
/** How long one render may take. */
export const RENDER_TIME_LIMIT_MS = 2_000;

const isSpaceOrTab = (code: number): boolean => code === 32 || code === 9;

/**
 * A subject or preheader on one line, without direction overrides: a line break in a trait would
 * break the header, an override would show the reader other text. Each run of line breaks, with
 * the spaces and tabs around it, becomes one space. Worked out by hand: a
 * pattern with spaces before the break (`[ \t]*[\r\n]+`) is tried again at every space of a
 * long run with no break after it, and a name of 31,000 spaces took 353 ms to render.
 */
// Every line break a mail client or terminal may honour: CR, LF, VT, FF, NEL and the Unicode
// line and paragraph separators.
const LINE_BREAK = /[\r\n\v\f\u0085\u2028\u2029]/;
const LINE_BREAKS = /[\r\n\v\f\u0085\u2028\u2029]+/;
// Direction overrides and isolates: `Hi Ana\u202Egnp.exe` displays as `Hi Anaexe.png`.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

const oneLine = (line: string): string => {
  const text = line.replace(BIDI_CONTROLS, '');
  if (!LINE_BREAK.test(text)) return text;
  const parts = text.split(LINE_BREAKS);
  const last = parts.length - 1;
  return parts
    .map((part, i) => {
      let start = 0;
      let end = part.length;
      if (i > 0) while (start < end && isSpaceOrTab(part.charCodeAt(start))) start += 1;
      if (i < last) while (end > start && isSpaceOrTab(part.charCodeAt(end - 1))) end -= 1;
      return part.slice(start, end);
    })
    .join(' ');
};

/** A reviewer's edit of a subject or preheader, on one line (`null` clears it), or `kept`. */
const editedLine = (edit: string | null | undefined, kept: string | null): string | null =>
  edit === undefined ? kept : edit === null ? null : oneLine(edit);

const dayFormat = new Intl.DateTimeFormat('en-US', {
  month: 'long',
  day: 'numeric',
  timeZone: 'UTC',
});

/** `June 5`: the calendar day `ms` falls on in a time zone. */
const dayIn = (ms: number, timezone: string): string =>
  dayFormat.format(Date.parse(`${localDate(ms, timezone)}T00:00:00Z`));

/**
 * Until when a code holds, in a time zone, as "valid until …" reads it: `June 4` for one that
 * ends as June 5 begins there (it holds all of June 4), else the day and the time it ends,
 * `June 5, 09:00` — a day alone would promise the rest of it (a 48-hour code sent at 10:00 ends
 * at 09:00 two days on; "valid until June 5" had the customer try it that afternoon).
 */
const lastMomentIn = (ms: number, timezone: string): string => {
  // The decisions of a round share their codes' end: each zone and minute worked out once.
  return keptIn(lastMoments, `${timezone}|${String(ms)}`, () => lastMomentOf(ms, timezone));
};

const lastMoments = new Map<string, string>();

const lastMomentOf = (ms: number, timezone: string): string => {
  const minute = localMinuteOfDay(ms, timezone);
  if (minute === 0 && ms % MINUTE_MS === 0) return dayIn(ms - 1, timezone);
  const hh = String(Math.floor(minute / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `${dayIn(ms, timezone)}, ${hh}:${mm}`;
};

/**
 * Renders messages from Liquid templates parsed once, when the renderer is built (a template
 * that does not parse fails start-up, naming it). Marketing email gets the footer: the postal
 * address and the unsubscribe link, whose token is signed with the link secret. In the HTML
 * part every `{{ … }}` is HTML-escaped once (a customer's name cannot add markup), unless its
 * last filter is `raw`; the other parts are not HTML and print values as they are.
 */
/**
 * A name as a greeting may use it: trimmed, and none when blank. Sign-up forms send
 * `firstName: ""`, which Liquid takes as a name (`{% if %}`, and `default` keeps `" "`): "Hi  ,".
 */
/**
 * A Liquid error's message without the values it quotes: the reason a message was blocked
 * (`render_failed`) is recorded in the audit log, which holds no personal data, and an error can
 * quote what it was given — `{% include customer.traits.banner %}` fails with `Failed to lookup
 * "<the trait's value>"`. What failed and where in the template (line and column) stay.
 */
const withoutQuotedValues = (message: string): string => {
  // From the first quote to the last: Liquid does not escape a quote inside what it quotes, so
  // a value holding quotes (a banner's HTML) would leave pieces between pairs.
  const first = message.indexOf('"');
  const last = message.lastIndexOf('"');
  return first === -1 || last === first
    ? message
    : `${message.slice(0, first)}"…"${message.slice(last + 1)}`;
};

/**
 * Writes cents of `currency` with its sign, in English number form (`$1,299.00`, `€129.90`,
 * `¥1,300`); a code without a sign before the figure (`XBT 129.90`), as Intl writes it, or
 * as written here for a code Intl refuses.
 */
const moneyFormat = (currency: string): ((cents: number) => string) => {
  try {
    const f = new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      currencyDisplay: 'narrowSymbol',
    });
    return (cents) => f.format(cents / 100);
  } catch {
    return (cents) => `${currency} ${(cents / 100).toFixed(2)}`;
  }
};

export const createRenderer = (
  templates: readonly Template[],
  settings: RenderSettings,
): Renderer => {
  const defaultTimezone = settings.defaultTimezone ?? 'UTC';
  const currency = settings.currency ?? 'USD';
  const amountIn = moneyFormat(currency);
  const limits = {
    // No file is a template: `{% include %}` and `{% render %}` would otherwise read any file
    // under the working directory (the config with its secrets), one a trait could name.
    templates: {},
    // A loop as long as a customer's data says (`(1..cart.itemCount)`, a quantity sent from a
    // browser) stops, and the message is blocked as render_failed, not the worker with it.
    memoryLimit: RENDER_MEMORY_LIMIT,
    renderLimit: RENDER_TIME_LIMIT_MS,
    // The `date` filter prints UTC, wherever Herald runs (liquidjs's default is the server's
    // zone): a template asks for the customer's with `| date: "%B %-d", customer.timezone`.
    timezoneOffset: 0,
  };
  // liquidjs adds the escape to each output as it parses it: the HTML part has an engine of its own.
  const engines: Record<OutputMode, Liquid> = {
    text: new Liquid({ ...LIQUID_OPTIONS, ...limits }),
    html: new Liquid({ ...HTML_LIQUID_OPTIONS, ...limits }),
  };
  const byName = new Map<string, Template>();
  const parsed = new Map<string, Parsed>();
  // The shop's and Herald's own hosts: every message may link to them.
  const ownHosts: ReadonlySet<string> = new Set([
    ...shopHostsOf(settings.shopUrl),
    ...[settings.publicUrl].flatMap((url) => hostOfLink(url) ?? []),
  ]);
  const add = (template: Template, atRunTime: boolean) => {
    const parse = (part: string, text: string, mode: OutputMode = 'text'): Part => {
      let liquid: LiquidTemplate[];
      try {
        // liquidjs parses every part, so a template it refuses fails here whatever the subset.
        liquid = engines[mode].parse(text);
      } catch (error) {
        throw new Error(
          `template ${template.name}: ${part} does not parse: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (mode === 'html') {
        const unsafe = findUnsafeOutputs(text);
        if (unsafe.length > 0)
          throw new Error(
            `template ${template.name}: ${part}: ${unsafe.map(describeUnsafeOutput).join('; ')}`,
          );
      }
      return { liquid, subset: compileSubset(text), mode };
    };
    parsed.set(template.name, {
      // Written copy's links are tracked to the shop alone: a link a model wrote stays as written,
      // for the links guardrail to read, not hidden behind Herald's redirect.
      linkHosts: atRunTime
        ? linkHostsIn([settings.shopUrl])
        : new Set([
            ...linkHostsIn([settings.shopUrl, template.subject, template.preheader, template.text]),
            ...htmlLinkHostsIn(template.html ?? ''),
          ]),
      // Read in the template's own words, its Liquid left out: `{{ brand.name }}` is a variable,
      // not a host named `brand.name` a customer's link could then go to.
      allowedHosts: new Set([
        ...ownHosts,
        ...[
          template.subject,
          template.preheader,
          template.text,
          template.html ?? '',
          ...(template.whatsapp?.parameters ?? []),
        ].flatMap((part) => linkHostsInText(maskLiquid(part))),
        ...linkHostsInHtml(maskLiquid(template.html ?? '')),
      ]),
      subject: parse('subject', template.subject),
      preheader: parse('preheader', template.preheader),
      text: parse('text', template.text),
      html: template.html === null ? null : parse('html', template.html, 'html'),
      whatsapp: {
        name: whatsAppNameOf(template),
        language: parse('whatsapp/language', template.whatsapp?.language ?? 'en_US'),
        parameters: (template.whatsapp?.parameters ?? []).map((text, i) =>
          parse(`whatsapp/parameters/${String(i)}`, text),
        ),
      },
    });
    byName.set(template.name, template);
  };
  for (const template of templates) add(template, false);
  // Templates made at run time (creative variants), least recently loaded first.
  const loadedAtRunTime = new Set<string>();
  const base = trimUrl(settings.publicUrl);
  const linkOf = (
    messageId: string,
    channel: Channel,
    templateName: string,
    decision: Decision,
  ): LinkContext => ({
    messageId,
    medium: channel,
    campaign:
      decision.trigger.kind === 'campaign'
        ? decision.trigger.campaign.id
        : (decision.journey?.id ?? templateName),
    content: templateName,
    base,
    linkSecret: settings.linkSecret,
  });
  const unsubscribeUrlOf = (messageId: string) =>
    `${base}/u/${signMessageToken(settings.linkSecret, 'u', messageId)}`;
  const address = settings.postalAddress ?? '';
  const textFooter = (unsubscribeUrl: string) =>
    `\n\n--\n${settings.brandName}${address === '' ? '' : ` · ${address}`}\nUnsubscribe: ${unsubscribeUrl}`;
  const beforeBodyEnd = (html: string, part: string) => {
    const at = bodyEndOf(html);
    return `${html.slice(0, at)}${part}${html.slice(at)}`;
  };
  const withHtmlFooter = (html: string, unsubscribeUrl: string) =>
    beforeBodyEnd(
      html,
      `<p style="font-size:12px;color:#666">${escapeHtml(settings.brandName)}${
        address === '' ? '' : ` · ${escapeHtml(address)}`
      }<br><a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a></p>`,
    );
  // Edited copy kept its footer when it still has the unsubscribe link and the postal address;
  // in HTML, outside comments and hidden elements, the link as a link a reader can follow (not
  // an image's source or an attribute's text) and the address in the text a reader sees.
  const keepsFooter = (copy: string, unsubscribeUrl: string, postal: string) =>
    linksInText(copy).includes(unsubscribeUrl) && copy.includes(postal);
  const keepsHtmlFooter = (html: string, unsubscribeUrl: string) =>
    htmlLinksIn(shownHtml(html)).includes(unsubscribeUrl) &&
    visibleHtmlText(html).includes(visibleText(address));
  const pixelOf = (link: LinkContext) =>
    `<img src="${escapeHtml(openPixelUrl(link))}" width="1" height="1" alt="" style="display:block;border:0">`;
  return {
    templateOf: (name) => byName.get(name),
    load(template) {
      const known = byName.get(template.name);
      // Another template under a name already taken would be sent as the first one.
      if (known !== undefined && !sameTemplate(known, template))
        throw new Error(`template ${template.name} is already loaded with other copy`);
      if (known !== undefined && !loadedAtRunTime.has(template.name)) return;
      if (known === undefined) add(template, true);
      // The latest used last: a long-running worker keeps the copies it still sends, not every
      // copy it ever sent.
      loadedAtRunTime.delete(template.name);
      loadedAtRunTime.add(template.name);
      for (const oldest of loadedAtRunTime) {
        if (loadedAtRunTime.size <= RUN_TIME_TEMPLATES_KEPT) break;
        loadedAtRunTime.delete(oldest);
        byName.delete(oldest);
        parsed.delete(oldest);
      }
    },
    linkHostsOf(templateName) {
      if (templateName === null || loadedAtRunTime.has(templateName)) return ownHosts;
      return parsed.get(templateName)?.allowedHosts ?? ownHosts;
    },
    render({ messageId, channel, template, messageClass, profile, decision }) {
      const p = parsed.get(template.name);
      if (p === undefined) throw new Error(`template ${template.name} is not loaded`);
      const traits = profile?.traits ?? {};
      const { first, last } = namesOf(traits);
      const cart = profile?.cart ?? null;
      const unsubscribeUrl = unsubscribeUrlOf(messageId);
      // The customer's zone, as quiet hours read it: profile, then country, then the default.
      // (A profile read from an older store may lack its location.)
      const location = profile?.location;
      const timezone =
        location === undefined
          ? defaultTimezone
          : resolveTimezone(location, { defaultTimezone }).timezone;
      const scope = {
        customer: {
          id: decision.customerId,
          firstName: first,
          lastName: last,
          traits,
          timezone,
        },
        decision: { id: decision.id, agent: decision.agent, action: decision.action },
        incentive:
          decision.incentive === null
            ? null
            : {
                kind: decision.incentive.kind,
                percent: decision.incentive.percent,
                amount: decision.incentive.amount,
                code: decision.incentive.code,
                expiresAtMs: decision.incentive.expiresAtMs,
                expiresAt: new Date(decision.incentive.expiresAtMs).toISOString(),
                /**
                 * `June 5, 09:00` (or `June 4` for a code that ends as June 5 begins), in the
                 * customer's zone: what the built-in templates print — in UTC a code that ends
                 * at 18:00 in Los Angeles would read as valid the next day.
                 */
                expiresOn: lastMomentIn(decision.incentive.expiresAtMs, timezone),
              },
        cart:
          cart === null
            ? null
            : {
                value: (cart.valueCents / 100).toFixed(2),
                total: amountIn(cart.valueCents),
                currency,
                itemCount: cart.items.reduce((n, i) => n + i.quantity, 0),
                items: cart.items,
              },
        details: decision.details,
        brand: { name: settings.brandName },
        links: {
          shop: settings.shopUrl,
          cart: `${trimUrl(settings.shopUrl)}/cart`,
          unsubscribe: unsubscribeUrl,
        },
      };
      const run = (part: string, { liquid: tpl, subset, mode }: Part) => {
        if (tpl.length === 0) return '';
        const fast = subset === null ? undefined : renderSubset(subset, scope, mode);
        if (fast !== undefined) return fast.trim();
        try {
          return String(engines[mode].renderSync(tpl, scope)).trim();
        } catch (error) {
          throw new Error(
            `template ${template.name}: ${part} does not render: ${withoutQuotedValues(error instanceof Error ? error.message : String(error))}`,
          );
        }
      };
      const marketingEmail = channel === 'email' && messageClass === 'marketing';
      const subject = oneLine(run('subject', p.subject));
      const link = linkOf(messageId, channel, template.name, decision);
      // Email links go through the signed click redirect; SMS and push links only get UTM
      // parameters (a redirect would double an SMS's length).
      const tracked = channel === 'email';
      let body = trackLinks(run('text', p.text), link, tracked, p.linkHosts);
      // A template without HTML makes a text-only email: its footer goes in the text.
      let html =
        channel === 'email' && p.html !== null
          ? trackHtmlLinks(run('html', p.html), link, p.linkHosts)
          : null;
      if (marketingEmail) {
        body += textFooter(unsubscribeUrl);
        if (html !== null) html = withHtmlFooter(html, unsubscribeUrl);
      }
      if (html !== null) html = beforeBodyEnd(html, pixelOf(link));
      const whatsapp: WhatsAppCall | null =
        channel === 'whatsapp'
          ? {
              name: p.whatsapp.name,
              language: run('whatsapp/language', p.whatsapp.language),
              parameters: p.whatsapp.parameters.map((part, i) =>
                asParameter(run(`whatsapp/parameters/${String(i)}`, part)),
              ),
            }
          : null;
      return {
        subject: channel === 'email' || channel === 'push' ? subject : null,
        preheader: channel === 'email' ? oneLine(run('preheader', p.preheader)) || null : null,
        body,
        html,
        from: channel === 'email' ? settings.from : null,
        replyTo: channel === 'email' ? settings.replyTo : null,
        footerAddress: marketingEmail ? settings.postalAddress : null,
        // Transactional email has none: a receipt with List-Unsubscribe shows an unsubscribe
        // button, and a mail client's one-click POST to it would withdraw marketing consent.
        unsubscribeUrl:
          channel === 'web' || (channel === 'email' && !marketingEmail) ? null : unsubscribeUrl,
        ...(whatsapp === null ? {} : { whatsapp }),
      };
    },
    withEdits({ messageId, channel, templateName, marketing, decision }, content, edits) {
      const link = linkOf(messageId, channel, templateName, decision);
      // A reviewer's copy links where the template did: a link to another host stays as written.
      const hosts = parsed.get(templateName)?.linkHosts ?? linkHostsIn([settings.shopUrl]);
      const marketingEmail = channel === 'email' && marketing;
      const unsubscribeUrl = content.unsubscribeUrl ?? unsubscribeUrlOf(messageId);
      let { body, html } = content;
      if (edits.body !== undefined) {
        body = trackLinks(edits.body.trim(), link, channel === 'email', hosts);
        if (marketingEmail && !keepsFooter(body, unsubscribeUrl, address))
          body += textFooter(unsubscribeUrl);
      }
      if (edits.html === null) html = null;
      else if (edits.html !== undefined) {
        html = trackHtmlLinks(edits.html.trim(), link, hosts);
        if (marketingEmail && !keepsHtmlFooter(html, unsubscribeUrl))
          html = withHtmlFooter(html, unsubscribeUrl);
        const pixel = pixelOf(link);
        if (!html.includes(pixel)) html = beforeBodyEnd(html, pixel);
      }
      return {
        ...content,
        // On one line, as rendered ones are: a reviewer's paste can carry a line break too.
        subject: editedLine(edits.subject, content.subject),
        preheader: editedLine(edits.preheader, content.preheader),
        body,
        html,
      };
    },
  };
};
