import { sampleActivation, sampleFicha } from '../../../test/support/sample-events';
import { createEnvelope } from './envelope';
import { EventDecodeError, decodeEvent, encodeEvent } from './event-registry';
import { isUuidV7 } from './uuid';

const activation = sampleActivation;
const ficha = sampleFicha;

describe('event contracts', () => {
  it('gives every event a UUIDv7 id and makes it its own correlation when nothing caused it', () => {
    const e = activation();
    expect(isUuidV7(e.eventId)).toBe(true);
    expect(e.correlationId).toBe(e.eventId);
    expect(e.causationId).toBeNull();
  });

  it('carries correlation over and records causation when an event causes another', () => {
    const cause = activation();
    const effect = createEnvelope({
      type: 'AlertEventReceived',
      alertId: cause.alertId,
      producer: 'tracker',
      cause,
      payload: {},
    });
    expect(effect.correlationId).toBe(cause.correlationId);
    expect(effect.causationId).toBe(cause.eventId);
  });

  it('round-trips a valid event through encode and decode', () => {
    const e = activation();
    expect(decodeEvent(encodeEvent(e))).toEqual(e);
  });

  it('refuses to encode an event consumers would refuse', () => {
    const e = activation();
    (e.payload as { version: unknown }).version = 0;
    expect(() => encodeEvent(e)).toThrow(EventDecodeError);
  });

  it.each([
    ['not JSON', 'nope', 'not_json'],
    ['an envelope without eventId', JSON.stringify({ ...activation(), eventId: undefined }), 'bad_envelope'],
    ['an unknown producer', JSON.stringify({ ...activation(), producer: 'someone' }), 'bad_envelope'],
    [
      'a payload that breaks its schema',
      JSON.stringify({ ...activation(), payload: { folio: 'x' } }),
      'bad_payload',
    ],
    [
      'an unknown schema version',
      JSON.stringify({ ...activation(), schemaVersion: 9 }),
      'unknown_schema_version',
    ],
  ])('classifies %s', (_name, raw, reason) => {
    try {
      decodeEvent(raw);
      throw new Error('decoded');
    } catch (err) {
      expect(err).toBeInstanceOf(EventDecodeError);
      expect((err as EventDecodeError).reason).toBe(reason);
    }
  });

  it('passes events of types it does not know, for newer producers', () => {
    const e = { ...activation(), type: 'SomethingNew', payload: { any: 1 } };
    expect(decodeEvent(JSON.stringify(e)).type).toBe('SomethingNew');
  });

  it('drops public-ficha fields it does not know instead of refusing the event', () => {
    const e = activation();
    const raw = JSON.parse(JSON.stringify(e));
    raw.payload.ficha.hairColor = 'negro';
    const decoded = decodeEvent(JSON.stringify(raw)) as typeof e;
    expect(decoded.payload.ficha).toEqual(ficha);
  });
});
