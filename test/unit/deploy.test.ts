import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULTS, loadConfig } from '../../pipeline/src/config.js';

// No Docker engine runs here: these tests hold the compose file and the Collector config to the
// structure the stack needs, and to the pipeline's own topic names and encodings.
const root = new URL('../../', import.meta.url);
const read = (p: string): unknown => parse(readFileSync(new URL(p, root), 'utf8'), { merge: true });

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}
const compose = read('docker-compose.yml') as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const collector = read('deploy/otel-collector.yaml') as {
  receivers: { otlp: { protocols: { grpc: unknown; http: unknown } } };
  exporters: {
    kafka: {
      brokers: string[];
      protocol_version: string;
      traces: { topic: string; encoding: string };
      logs: { topic: string; encoding: string };
    };
  };
  service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
};

describe('docker-compose.yml', () => {
  it('runs Kafka, ClickHouse, the Collector and both pipeline stages, with healthchecks', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'clickhouse',
      'harness-meter',
      'harness-meter-enrich',
      'kafka',
      'otel-collector',
    ]);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(
        s.healthcheck?.test ?? (name === 'otel-collector' ? 'none' : undefined),
        `${name} healthcheck`,
      ).toBeDefined();
      if (s.image) expect(s.image, `${name} image pinned`).toMatch(/:\d+\.\d+(\.\d+)?$/);
      else expect(s.build, `${name} builds the Dockerfile`).toBe('.');
      for (const dep of Object.keys(s.depends_on ?? {}))
        expect(Object.keys(compose.services)).toContain(dep);
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] ?? '';
        if (!source.startsWith('.'))
          expect(Object.keys(compose.volumes), `named volume ${source}`).toContain(source);
      }
    }
  });

  it('configures the pipeline through the documented variables, and they load', () => {
    const ingest = compose.services['harness-meter']!;
    const enrich = compose.services['harness-meter-enrich']!;
    expect(ingest.command).toEqual(['run', 'ingest']);
    expect(enrich.command).toEqual(['run', 'enrich']);
    expect(enrich.environment).toEqual(ingest.environment);
    const env = Object.fromEntries(
      Object.entries(ingest.environment ?? {}).map(([k, v]) => [k, String(v)]),
    );
    const config = loadConfig(env);
    expect(config.kafka.brokers).toEqual(['kafka:9092']);
    expect(config.clickhouseUrl).toBe('http://clickhouse:8123');
    expect(compose.services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS).toBe(
      'PLAINTEXT://kafka:9092',
    );
  });
});

describe('deploy/otel-collector.yaml', () => {
  it('writes traces to the topic the pipeline reads, in otlp_proto, and logs to otlp_logs', () => {
    const kafka = collector.exporters.kafka;
    expect(kafka.traces).toEqual({ topic: DEFAULTS.otlpSpansTopic, encoding: 'otlp_proto' });
    expect(kafka.logs).toEqual({ topic: 'otlp_logs', encoding: 'otlp_proto' });
    expect(kafka.brokers).toEqual(['kafka:9092']);
    expect(kafka.protocol_version).toBe('2.1.0');
    expect(collector.service.pipelines.traces).toMatchObject({
      receivers: ['otlp'],
      exporters: ['kafka'],
    });
    expect(collector.receivers.otlp.protocols.http).toBeDefined();
    expect(collector.receivers.otlp.protocols.grpc).toBeDefined();
  });
});
