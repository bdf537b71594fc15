/**
 * What goes on a span from a provider's response (gen_ai.response.*, the usage object) and from a
 * thrown error (error.type, the redacted exception). Pure; the wrappers in tracer.ts call these.
 */
import type { Attributes } from '@opentelemetry/api';
import { redact } from './redact.js';
import {
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
} from './semconv.js';

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

const OPENAI_OBJECTS = /^(?:chat\.completion|response|text_completion)/;

/** Does this look like a provider response (Anthropic Messages, OpenAI Chat/Responses, Gemini)? */
function looksLikeResponse(r: Obj): boolean {
  return (
    r.type === 'message' ||
    'stop_reason' in r ||
    Array.isArray(r.choices) ||
    Array.isArray(r.candidates) ||
    (typeof r.object === 'string' && OPENAI_OBJECTS.test(r.object)) ||
    isObj(r.usage) ||
    isObj(r.usageMetadata)
  );
}

/** gen_ai.response.* from a provider response, duck-typed (no dependency on the providers' SDKs). */
export function responseAttributes(r: unknown): Attributes {
  const a: Attributes = {};
  if (!isObj(r) || !looksLikeResponse(r)) return a;
  const model = typeof r.model === 'string' ? r.model : r.modelVersion; // Gemini: modelVersion
  if (typeof model === 'string' && model) a[ATTR_GEN_AI_RESPONSE_MODEL] = model;
  const id = typeof r.id === 'string' ? r.id : r.responseId; // Gemini: responseId
  if (typeof id === 'string' && id) a[ATTR_GEN_AI_RESPONSE_ID] = id;
  const reasons: string[] = [];
  if (typeof r.stop_reason === 'string') reasons.push(r.stop_reason); // Anthropic
  if (Array.isArray(r.choices))
    for (const c of r.choices as unknown[])
      if (isObj(c) && typeof c.finish_reason === 'string') reasons.push(c.finish_reason); // OpenAI chat
  if (Array.isArray(r.candidates))
    for (const c of r.candidates as unknown[])
      if (isObj(c) && typeof c.finishReason === 'string') reasons.push(c.finishReason); // Gemini
  if (isObj(r.incomplete_details) && typeof r.incomplete_details.reason === 'string')
    reasons.push(r.incomplete_details.reason); // OpenAI Responses, when cut short
  if (reasons.length > 0) a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = reasons;
  return a;
}

/** The usage object a provider response carries, if any. */
export const responseUsage = (result: unknown): unknown =>
  isObj(result) ? (result.usage ?? result.usageMetadata) : undefined;

/**
 * error.type: the error's class name (`RangeError`, `AbortError`), or its string `code` when the
 * class says nothing more than `Error` (`ENOENT`); `_OTHER` for thrown non-errors (semconv fallback).
 */
export function errorType(err: unknown): string {
  if (!(err instanceof Error)) return '_OTHER';
  const name = err.name || err.constructor.name || 'Error';
  const code = (err as { code?: unknown }).code;
  return name === 'Error' && typeof code === 'string' && code ? code : name;
}

/** Parts of a thrown error that go on the span, redacted: messages often quote commands and URLs. */
export function exceptionOf(err: unknown): { name: string; message: string; stack?: string } {
  if (err instanceof Error) {
    const out: { name: string; message: string; stack?: string } = {
      name: err.name || err.constructor.name || 'Error',
      message: redact(err.message),
    };
    if (typeof err.stack === 'string') out.stack = redact(err.stack);
    return out;
  }
  let text: string;
  try {
    text = typeof err === 'string' ? err : String(err);
  } catch {
    text = typeof err;
  }
  return { name: '_OTHER', message: redact(text) };
}
