import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const id = Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Number()]);
const optionalId = Type.Optional(Type.Union([id, Type.Null()]));
const bag = Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]));
const time = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()]));

/** One Segment call as sent by a client, before Herald normalises it (unknown fields are kept). */
export const rawEventSchema = Type.Object({
  type: Type.Optional(Type.String()),
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  userId: optionalId,
  anonymousId: optionalId,
  previousId: optionalId,
  groupId: optionalId,
  event: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  name: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
  properties: bag,
  traits: bag,
  context: bag,
  integrations: bag,
  timestamp: time,
  originalTimestamp: time,
  sentAt: time,
});

export const rawEventChecker = TypeCompiler.Compile(rawEventSchema);
