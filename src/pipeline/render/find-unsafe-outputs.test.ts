import { describe, expect, it } from 'vitest';
import { describePlace, findUnsafeOutputs } from './find-unsafe-outputs.js';

/** Each unsafe output as `liquid: place`. */
const unsafeIn = (html: string): string[] =>
  findUnsafeOutputs(html).map(({ liquid, place }) => `${liquid}: ${describePlace(place)}`);

describe('findUnsafeOutputs', () => {
  it('finds a value printed in an unquoted attribute value', () => {
    expect(
      unsafeIn('<p><img alt={{ customer.firstName }} src="https://s.example.com/a.png" width=120>'),
    ).toEqual(['{{ customer.firstName }}: the unquoted value of attribute alt of <img>']);
    expect(unsafeIn('<td align=center class=x{{ a }}>')).toEqual([
      '{{ a }}: the unquoted value of attribute class of <td>',
    ]);
  });

  it('reads <noscript> as markup, as a mail client (which runs no scripts) does', () => {
    expect(unsafeIn('<noscript><img alt={{ customer.firstName }}></noscript>')).toEqual([
      '{{ customer.firstName }}: the unquoted value of attribute alt of <img>',
    ]);
  });

  it('finds a value printed in CSS: a style attribute, quoted or not, or a <style> element', () => {
    expect(
      unsafeIn(`<td style="background-image:url('{{ customer.traits.avatar }}')">Hi</td>`),
    ).toEqual(['{{ customer.traits.avatar }}: the style attribute of <td>']);
    expect(unsafeIn("<td STYLE='color:{{ c }}'>")).toEqual([
      '{{ c }}: the style attribute of <td>',
    ]);
    expect(unsafeIn('<head><style>\ntd { color: {{ c }} }\n</style></head>')).toEqual([
      '{{ c }}: a <style> element',
    ]);
  });

  it('finds a value read as JavaScript or HTML once decoded, and one in a tag’s own markup', () => {
    expect(unsafeIn(`<button onclick="go('{{ a }}')">`)).toEqual([
      '{{ a }}: the onclick attribute of <button>',
    ]);
    expect(unsafeIn('<script>var a = "{{ a }}";</script>')).toEqual([
      '{{ a }}: a <script> element',
    ]);
    expect(unsafeIn('<iframe srcdoc="{{ a }}"></iframe>')).toEqual([
      '{{ a }}: the srcdoc attribute of <iframe>',
    ]);
    expect(unsafeIn('<div {{ a }}>x</div><{{ b }}>')).toEqual([
      '{{ a }}: the markup of a tag <div>, outside any quoted value',
      '{{ b }}: the markup of a tag, outside any quoted value',
    ]);
  });

  it('accepts a value in text, in a quoted attribute, in a comment and in <title>', () => {
    expect(
      unsafeIn(
        '<!DOCTYPE html><html><head><title>{{ brand.name }}</title></head><body>' +
          '<!-- {{ a }} --><p title="{{ b }}" class=\'{{ c }}\'>Hi {{ d }}</p>' +
          '<a href="{{ links.cart }}" target=_blank>Go</a><td align=center>{{ e }}</td>' +
          '<textarea>{{ f }}</textarea><p>a > b, 1 < 2 {{ g }}</p></body></html>',
      ),
    ).toEqual([]);
  });

  it('accepts anything whose last filter is raw, and reads echo and liquid tags as outputs', () => {
    expect(unsafeIn('<td style="{{ details.css | raw }}" width={% echo w | raw %}>')).toEqual([]);
    expect(unsafeIn('<td style="{{ details.css | raw | upcase }}">')).toHaveLength(1);
    expect(unsafeIn('<td width={% echo w %}>')).toEqual([
      '{% echo w %}: the unquoted value of attribute width of <td>',
    ]);
    expect(unsafeIn('<td width={% liquid\nassign x = 1\necho w %}>')).toEqual([
      '{% liquid\nassign x = 1\necho w %}: the unquoted value of attribute width of <td>',
    ]);
    expect(unsafeIn('<td class={% cycle "odd", "even" %}>')).toHaveLength(1);
  });

  it('reads Liquid tags as printing nothing, and raw and comment blocks as they render', () => {
    expect(unsafeIn('<td {% if x %}class="a"{% endif %} title="{{ t }}">')).toEqual([]);
    expect(unsafeIn('<img {% if x %}alt={{ a }} {% else %}alt="{{ b }}"{% endif %}>')).toEqual([
      '{{ a }}: the unquoted value of attribute alt of <img>',
    ]);
    expect(unsafeIn('{% raw %}<td style="{{ x }}">{% endraw %}')).toEqual([]);
    expect(unsafeIn('{% comment %}<td style="{{ x }}">{% endcomment %}<p>{{ y }}</p>')).toEqual([]);
  });

  it('reads what Outlook’s conditional comments hold as HTML', () => {
    expect(
      unsafeIn(
        '<!--[if mso]><v:rect fillcolor={{ a }} style="width:{{ b }}"><![endif]--><p>{{ c }}</p>' +
          '<!--[if !mso]><!--><p>{{ d }}</p><!--<![endif]-->',
      ),
    ).toEqual([
      '{{ a }}: the unquoted value of attribute fillcolor of <v:rect>',
      '{{ b }}: the style attribute of <v:rect>',
    ]);
  });

  it('gives the line of each output', () => {
    expect(findUnsafeOutputs('<p>\n{{ a }}\n<img\n alt={{ b }}>').map((o) => o.line)).toEqual([4]);
  });
});
