import { describe, expect, it } from 'vitest';
import { cutAt, redact, wellFormed } from '@harness-meter/instrumentation';
import { StoreError } from '@harness-meter/queries';
import { OtlpDecodeError } from '../../pipeline/src/decode/index.js';
import {
  checkedCount,
  checkSpanTimes,
  limitAttributes,
  MAX_TOKEN_COUNT,
  SpanRejectedError,
} from '../../pipeline/src/decode/validate.js';
import { PipelineError } from '../../pipeline/src/errors.js';
import { statusFor } from '../../pipeline/src/ingest/status.js';

describe('statusFor: one error → HTTP mapping for every route', () => {
  it('answers permanent problems 4xx, transient ones 503, our own bugs 500', () => {
    const chDataError = Object.assign(new Error('Cannot parse escape sequence'), {
      code: '25',
      type: 'CANNOT_PARSE_ESCAPE_SEQUENCE',
    });
    const cases: [unknown, number, boolean][] = [
      [new PipelineError('BAD_REQUEST', 'x'), 400, false],
      [new PipelineError('PAYLOAD_TOO_LARGE', 'x'), 413, false],
      [new PipelineError('UNSUPPORTED_MEDIA_TYPE', 'x'), 415, false],
      [new PipelineError('UNPROCESSABLE', 'x'), 422, false],
      [new PipelineError('SINK_FAILED', 'x', { retriable: true }), 503, true],
      [new PipelineError('SINK_FAILED', 'x'), 500, false],
      [new OtlpDecodeError('x'), 400, false],
      [new SpanRejectedError('x'), 422, false],
      [new StoreError('INVALID_ARGUMENT', 'x'), 400, false],
      [new StoreError('QUERY_FAILED', 'x', { retriable: true }), 503, true],
      // ClickHouse refusing the values, even wrapped as a retriable store error: never a 503.
      [new StoreError('QUERY_FAILED', 'x', { retriable: true, cause: chDataError }), 422, false],
      [chDataError, 422, false],
      [new TypeError('Cannot read properties of null'), 500, false],
      ['a string', 500, false],
    ];
    for (const [err, status, retriable] of cases) {
      const s = statusFor(err);
      expect({ status: s.status, retriable: s.retriable }, String(err)).toEqual({
        status,
        retriable,
      });
    }
  });
});

describe('per-span checks', () => {
  it('counts: non-negative integers up to the bound; anything else refuses the span', () => {
    expect(checkedCount('', 'k')).toBe(0);
    expect(checkedCount('1200', 'k')).toBe(1200);
    expect(checkedCount('1.2e+3', 'k')).toBe(1200);
    expect(checkedCount(String(MAX_TOKEN_COUNT), 'k')).toBe(MAX_TOKEN_COUNT);
    for (const bad of [
      '-5',
      '12.5',
      'NaN',
      'abc',
      '1e30',
      '9223372036854775807',
      '9e15',
      'Infinity',
      ' 1',
    ])
      expect(() => checkedCount(bad, 'k'), bad).toThrow(SpanRejectedError);
  });

  it('times: inside 2000..2100, end not before start, a missing end is the start', () => {
    const t = 1_764_000_000_000_000_000n;
    expect(checkSpanTimes(t, 0n, 's')).toEqual([t, t]);
    expect(checkSpanTimes(t, t + 5n, 's')).toEqual([t, t + 5n]);
    expect(() => checkSpanTimes(0n, t, 's')).toThrow('startTimeUnixNano is missing');
    expect(() => checkSpanTimes(10_413_792_000_000_000_000n, 0n, 's')).toThrow('2300-01-01');
    expect(() => checkSpanTimes(t, t - 1n, 's')).toThrow('before startTimeUnixNano');
    expect(() => checkSpanTimes(1000n, 2000n, 's')).toThrow('outside the accepted window');
  });

  it('attribute count limit: the first ones are kept, the rest counted', () => {
    const attrs = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v']));
    const out = limitAttributes(attrs, { attributeCountLimit: 3, attributeValueLengthLimit: 100 });
    expect(Object.keys(out.attributes)).toEqual(['k0', 'k1', 'k2']);
    expect(out.dropped).toBe(7);
  });
});

describe('valid UTF-16 text', () => {
  it('replaces lone surrogates, keeps pairs', () => {
    expect(wellFormed('a\ud83db')).toBe('a\ufffdb');
    expect(wellFormed('\udc00')).toBe('\ufffd');
    expect(wellFormed('ok 😀')).toBe('ok 😀');
  });

  it('redact() never cuts an emoji in half (8,192 UTF-16 units)', () => {
    const text = `${'a'.repeat(8191)}😀tail`;
    const out = redact(text);
    expect(out.startsWith(`${'a'.repeat(8191)}…`)).toBe(true);
    expect(wellFormed(out)).toBe(out);
    expect(cutAt('ab😀', 3)).toBe('ab');
    expect(cutAt('ab😀', 4)).toBe('ab😀');
  });
});
