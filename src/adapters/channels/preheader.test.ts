import { describe, expect, it } from 'vitest';
import { withPreheader } from './preheader.js';

const hidden =
  '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">Your code is inside</div>';
const sent = (html: string) => withPreheader(html, 'Your code is inside');

describe('withPreheader', () => {
  it('puts the preheader first in the body', () => {
    expect(sent('<!DOCTYPE html><html><head></head><body class="x"><p>Hi</p></body></html>')).toBe(
      `<!DOCTYPE html><html><head></head><body class="x">${hidden}<p>Hi</p></body></html>`,
    );
  });

  it('keeps the doctype first in a document without <body>: after the head, <html> or doctype', () => {
    expect(
      sent('<!DOCTYPE html><html><head><style>td{}</style></head><table></table></html>'),
    ).toBe(`<!DOCTYPE html><html><head><style>td{}</style></head>${hidden}<table></table></html>`);
    expect(sent('<!doctype html>\n<html lang="en"><p>Hi</p></html>')).toBe(
      `<!doctype html>\n<html lang="en">${hidden}<p>Hi</p></html>`,
    );
    expect(sent(' <!DOCTYPE html><p>Hi</p>')).toBe(` <!DOCTYPE html>${hidden}<p>Hi</p>`);
  });

  it('reads no tag a comment mentions, and tags in any case', () => {
    expect(sent('<html><!-- <body> comes later --><BODY><p>Hi</p></BODY></html>')).toBe(
      `<html><!-- <body> comes later --><BODY>${hidden}<p>Hi</p></BODY></html>`,
    );
  });

  it('puts it first in a fragment, and changes nothing without one', () => {
    expect(sent('<p>Hi</p>')).toBe(`${hidden}<p>Hi</p>`);
    expect(withPreheader('<p>Hi</p>', '  ')).toBe('<p>Hi</p>');
    expect(withPreheader('<p>Hi</p>', null)).toBe('<p>Hi</p>');
  });
});
