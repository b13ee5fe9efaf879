import { isAllowedHost, linkHostsInHtml, linkHostsInText } from '../../../core/link-hosts.js';
import type { Guardrail } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';
import { visibleCopy } from './visible-copy.js';

const NAME = 'links';

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
