// OTLP protobuf export requests for the ingest bench: 500 spans each, 40 % LLM / 60 % tool calls,
// spread over 200 sessions (one trace per session). Bodies are encoded once per template and then
// stamped: each request gets fresh span ids (and times) by overwriting fixed-width fields in place,
// so the client costs almost nothing next to the server it drives.
import { encodeTraceRequestProtobuf } from '../pipeline/dist/decode/index.js';
import { createSpanPath } from '../pipeline/dist/embedded.js';
import { loadPriceBook } from '../pipeline/dist/price/index.js';

const MARK = 0xa5; // first byte of every template span id, so the 8 id bytes are easy to find

/**
 * @param {{ perRequest?: number, sessions?: number, templates?: number }} [options]
 * @returns {{ next(): Buffer, perRequest: number }} next() returns a new body with unique span ids
 */
export function createRequestStream(options = {}) {
  const perRequest = options.perRequest ?? 500;
  const sessions = options.sessions ?? 200;
  const templateCount = options.templates ?? 16;
  const t0 = BigInt(Date.now() - 6 * 3_600_000) * 1_000_000n;
  const templates = [];
  for (let t = 0; t < templateCount; t++) {
    const spans = [];
    for (let j = 0; j < perRequest; j++) {
      const n = t * perRequest + j;
      const session = (n * 7919) % sessions;
      const llm = j % 5 < 2; // 40 % LLM calls, 60 % tool calls
      const tool = ['Read', 'Bash', 'Grep', 'Edit'][n % 4];
      const id = Buffer.alloc(8);
      id[0] = MARK;
      id.writeUInt16BE(j, 1);
      const start = t0 + BigInt(n) * 1_000_000n;
      spans.push({
        traceId: Buffer.from((session + 1).toString(16).padStart(32, '0'), 'hex').toString('hex'),
        spanId: id.toString('hex'),
        name: llm ? 'chat claude-sonnet-4-5' : `execute_tool ${tool}`,
        kind: llm ? 3 : 1,
        startTimeUnixNano: String(start),
        endTimeUnixNano: String(start + 400_000_000n),
        attributes: [
          ['gen_ai.operation.name', llm ? 'chat' : 'execute_tool'],
          ['gen_ai.provider.name', 'anthropic'],
          ['gen_ai.request.model', 'claude-sonnet-4-5'],
          ['gen_ai.conversation.id', `bench-session-${session}`],
          ['user.id', `dev-${session % 20}`],
          ['vcs.repository.url.full', `https://github.com/acme/repo-${session % 5}`],
          ['vcs.change.id', String(100 + (session % 50))],
          ...(llm
            ? []
            : [
                ['gen_ai.tool.name', tool],
                ['gen_ai.tool.call.id', `call-${n}`],
              ]),
        ]
          .map(([key, v]) => ({ key, value: { stringValue: v } }))
          .concat(
            llm
              ? [
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: '12000' } },
                  { key: 'gen_ai.usage.cache_read.input_tokens', value: { intValue: '10000' } },
                  { key: 'gen_ai.usage.output_tokens', value: { intValue: '400' } },
                ]
              : [],
          ),
      });
    }
    const body = Buffer.from(
      encodeTraceRequestProtobuf({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
            scopeSpans: [{ scope: { name: 'bench' }, spans }],
          },
        ],
      }),
    );
    // Offsets of the span ids: field 2 (span_id), length 8, then the marked bytes.
    const offsets = [];
    for (let j = 0; j < perRequest; j++) {
      const needle = Buffer.from([0x12, 8, MARK, j >> 8, j & 0xff]);
      const at = body.indexOf(needle);
      if (at < 0) throw new Error(`span id ${j} not found in template ${t}`);
      offsets.push(at + 2);
    }
    templates.push({ body, offsets });
  }
  let request = 0;
  return {
    perRequest,
    next() {
      const { body, offsets } = templates[request % templateCount];
      const out = Buffer.from(body);
      // 5 bytes of request number after the marker keep ids unique for 2^40 requests.
      const r = request++;
      for (const at of offsets) {
        out[at + 3] = Math.floor(r / 2 ** 32) & 0xff;
        out.writeUInt32BE(r >>> 0, at + 4);
      }
      return out;
    },
  };
}

/**
 * At least `n` spans of the stream, decoded and priced by the receiver's own path (no store): the rows
 * the ingest benches insert.
 */
export async function pricedSpans(n) {
  const spans = [];
  const path = createSpanPath(loadPriceBook(undefined), {
    write: async (s) => {
      spans.push(...s);
      return { inserted: s.length, duplicates: 0, refused: 0, reasons: [] };
    },
    flush: async () => {},
    close: async () => {},
    storedBatches: () => 0,
  });
  const gen = createRequestStream();
  while (spans.length < n) await path.handleTraces(gen.next(), 'protobuf');
  return spans;
}
