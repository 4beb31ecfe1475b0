import { createHmac } from 'crypto';
import { signWebhook, webhookBody } from './webhook.adapter';

/** The delivery's bytes are built by hand around the card's base64: they must still be the JSON agreed. */
describe('webhook delivery body', () => {
  const card = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xfe, 0x00]);
  const request = {
    text: 'ALERTA ROSA «Prueba» — Folio AR-2026-0042\nSe busca a María José "Majo" Pérez',
    marker: 'Folio AR-2026-0042 (v1)',
    idempotencyKey: 'post-1-v1-partner-a',
    replyToRemoteId: 'hook-7',
    data: { folio: 'AR-2026-0042', version: 1 },
  };

  it('is the JSON of the delivery, with the card as base64, for any text and alt text', () => {
    const body = webhookBody({
      ...request,
      image: { data: card, contentType: 'image/jpeg', altText: 'Ficha de «Majo» \\ "ñ" \u2028' },
    });
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      type: 'alerta-rosa.publication',
      idempotencyKey: request.idempotencyKey,
      marker: request.marker,
      text: request.text,
      replyTo: 'hook-7',
      data: request.data,
      image: {
        contentType: 'image/jpeg',
        altText: 'Ficha de «Majo» \\ "ñ" \u2028',
        base64: card.toString('base64'),
      },
    });
    // The same card again (the next partner account): the same bytes.
    const again = webhookBody({
      ...request,
      image: { data: card, contentType: 'image/jpeg', altText: 'Ficha de «Majo» \\ "ñ" \u2028' },
    });
    expect(again.equals(body)).toBe(true);
  });

  it('carries image null and no reply without them', () => {
    const body = JSON.parse(webhookBody({ text: 't', marker: 'm', idempotencyKey: 'k' }).toString('utf8'));
    expect(body).toMatchObject({ image: null, replyTo: null, data: {} });
  });

  it('signs the bytes sent: HMAC-SHA256 of <timestamp>.<body>', () => {
    const body = webhookBody({
      ...request,
      image: { data: card, contentType: 'image/jpeg', altText: 'Ficha' },
    });
    const expected = createHmac('sha256', 'secreto-de-prueba-123')
      .update(`1764806400.${body.toString('utf8')}`)
      .digest('hex');
    expect(signWebhook('secreto-de-prueba-123', '1764806400', body)).toBe(`sha256=${expected}`);
    expect(signWebhook('secreto-de-prueba-123', '1764806400', body.toString('utf8'))).toBe(
      `sha256=${expected}`,
    );
  });
});
