import type { FastifyInstance } from 'fastify';
import { InvalidUtf8, UnsupportedMediaType } from '../errors.js';
import { notUtf8Text, utf8Text } from './media-type.js';

/**
 * Replaces Fastify's JSON body parser, for the scope and those registered in it after this call,
 * with one that refuses (415) a JSON body declared in another charset than UTF-8 (RFC 8259 §8.1:
 * JSON exchanged between systems is UTF-8) or compressed, where Fastify would misread it as
 * UTF-8. A body whose bytes are not UTF-8 is 400: Fastify would read them as U+FFFD, so different
 * passwords or names would arrive as one. Everything else, prototype-poisoning refusal included,
 * is Fastify's own parser. Fastify's text/plain parser is removed: plain text is 415 too.
 */
export function acceptUtf8JsonOnly(app: FastifyInstance): void {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  const parseJson = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  app.removeContentTypeParser('application/json');
  // No route reads plain text. With Fastify's text/plain parser in place, a JSON route given
  // plain text judged the string against its schema (422) instead of refusing the type (415).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const refused = notUtf8Text(request.headers);
    if (refused === 'encoding') return done(new UnsupportedMediaType('Content-Encoding is not supported'), undefined);
    if (refused === 'charset') return done(new UnsupportedMediaType('JSON bodies must be UTF-8 (RFC 8259 §8.1)'), undefined);
    const text = utf8Text(body as Buffer);
    if (text === undefined) return done(new InvalidUtf8('The body is not valid UTF-8 (RFC 8259 §8.1)'), undefined);
    parseJson(request, text, done);
  });
}
