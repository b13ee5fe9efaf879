import {
  hostOfLink,
  isAllowedHost,
  linkHostsInHtml,
  linkHostsInText,
} from '../../../core/link-hosts.js';
import { pushLinkOf } from '../../../core/push-payload.js';
import type { Guardrail } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';
import { visibleCopy } from './visible-copy.js';

const NAME = 'links';
const NON_ASCII = /[^\u0000-\u007f]/;

/** The host a push's tap link opens, as FCM is given it; `''` (foreign) when it leads nowhere. */
const pushLinkHosts = (body: string): string[] => {
  const link = pushLinkOf(body);
  return link === null ? [] : [hostOfLink(link) ?? ''];
};

/**
 * Where a message's links lead: only to hosts its template names, the shop's and Herald's own
 * (`GuardContext.linkHosts`) and `links.allowedHosts`. A trait, an event's product URL or
 * generated copy can put any link in a message — `Ana, verify: https://evil.example/x` as a
 * first name, from a browser source whose write key is public — and it would leave under the
 * brand's name. Read in the copy as a reader sees it (subject, preheader, text, the HTML part's
 * text), in the HTML part's links and in WhatsApp's variables. The verdict counts the links and
 * names the parts, never the hosts: they come from the customer's data or a model, and the audit
 * log copies neither.
 */
export const linksGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const c = message.content;
    if (c === null) return [pass(NAME, 'nothing rendered to link from')];
    const parts: [string, string[]][] = [
      ['copy', linkHostsInText(visibleCopy(c))],
      ['HTML links', linkHostsInHtml(c.html ?? '')],
      ['WhatsApp variables', (c.whatsapp?.parameters ?? []).flatMap(linkHostsInText)],
      // The page a push opens, read from the text as sent (the copy above is folded: `／` is a
      // slash there, and no slash to the URL parser, which reads what comes before an `@` after
      // it as a user name): a link that leads to no host is foreign too.
      ['push link', message.channel === 'push' ? pushLinkHosts(c.body) : []],
    ];
    const { allowedHosts, onForeignHost } = policy.links;
    let links = 0;
    let foreign = 0;
    const where: string[] = [];
    for (const [part, hosts] of parts) {
      links += hosts.length;
      const outside = hosts.filter((h) => !isAllowedHost(h, context.linkHosts, allowedHosts));
      foreign += outside.length;
      if (outside.length > 0) where.push(part);
    }
    // The copy as written, where folding changed it: `／` is a slash once folded, but a link
    // clicked in the text as sent runs on past it, and the URL parser reads what precedes an
    // `@` there as a user name. Only the hosts folding hid are counted: the links are the same.
    const written = `${c.subject ?? ''}\n${c.preheader ?? ''}\n${c.body}`;
    if (NON_ASCII.test(written)) {
      const hidden = linkHostsInText(written).filter(
        (h) => !isAllowedHost(h, context.linkHosts, allowedHosts),
      ).length;
      if (hidden > 0 && !where.includes('copy')) {
        foreign += hidden;
        where.push('copy');
      }
    }
    if (foreign === 0) return [pass(NAME, 'every link leads to a known host', { links })];
    return [
      verdict(
        NAME,
        onForeignHost,
        'foreign_link',
        `${String(foreign)} link${foreign === 1 ? '' : 's'} (in the ${where.join(', ')}) lead${foreign === 1 ? 's' : ''} to a host neither the template, the shop, Herald nor guard.links.allowedHosts names`,
        { links, foreign, parts: where },
      ),
    ];
  },
};
