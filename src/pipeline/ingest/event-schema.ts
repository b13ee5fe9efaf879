import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

// A union's description is its rule in words: a value that fits no member is reported as
// "must be <description>" (parse-event.ts), not TypeBox's "Expected union value".
const id = Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Number()]);
const optionalId = Type.Optional(
  Type.Union([id, Type.Null()], {
    description: 'a string of 1–256 characters or a number, or null',
  }),
);
const bag = Type.Optional(
  Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'a JSON object or null',
  }),
);
const time = Type.Optional(
  Type.Union([Type.String({ maxLength: 64 }), Type.Null()], {
    description: 'an ISO-8601 date string (up to 64 characters) or null',
  }),
);

/** One Segment call as sent by a client, before Herald normalises it (unknown fields are kept). */
export const rawEventSchema = Type.Object({
  type: Type.Optional(Type.String()),
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  userId: optionalId,
  anonymousId: optionalId,
  previousId: optionalId,
  groupId: optionalId,
  event: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  name: Type.Optional(
    Type.Union([Type.String({ maxLength: 512 }), Type.Null()], {
      description: 'a string of up to 512 characters or null',
    }),
  ),
  properties: bag,
  traits: bag,
  context: bag,
  integrations: bag,
  timestamp: time,
  originalTimestamp: time,
  sentAt: time,
});

export const rawEventChecker = TypeCompiler.Compile(rawEventSchema);
