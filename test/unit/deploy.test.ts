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
      metrics: { topic: string; encoding: string };
    };
  };
  service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
};

describe('docker-compose.yml', () => {
  it('runs Kafka, ClickHouse, the Collector and both pipeline stages, with healthchecks', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'clickhouse',
      'grafana',
      'harness-meter',
      'harness-meter-enrich',
      'kafka',
      'otel-collector',
      'prometheus',
    ]);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(
        s.healthcheck?.test ?? (name === 'otel-collector' ? 'none' : undefined),
        `${name} healthcheck`,
      ).toBeDefined();
      if (s.image) expect(s.image, `${name} image pinned`).toMatch(/:v?\d+\.\d+(\.\d+)?$/);
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
    expect(kafka.metrics).toEqual({ topic: DEFAULTS.otlpMetricsTopic, encoding: 'otlp_proto' });
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

describe('Grafana and Prometheus in the stack', () => {
  const grafana = compose.services.grafana!;
  const datasources = read('deploy/grafana/provisioning/datasources/clickhouse.yaml') as {
    datasources: {
      uid: string;
      type: string;
      jsonData: { host: string; port: number; protocol: string; defaultDatabase: string };
    }[];
  };
  const providers = read('deploy/grafana/provisioning/dashboards/harness-meter.yaml') as {
    providers: { options: { path: string } }[];
  };

  it('provisions the ClickHouse data source the dashboard names, pointing at the compose ClickHouse', () => {
    const [ds] = datasources.datasources;
    expect(ds?.type).toBe('grafana-clickhouse-datasource');
    expect(grafana.environment?.GF_INSTALL_PLUGINS).toMatch(/^grafana-clickhouse-datasource /);
    expect(ds?.jsonData.host).toBe('${HM_GRAFANA_CLICKHOUSE_HOST}');
    expect(grafana.environment?.HM_GRAFANA_CLICKHOUSE_HOST).toBe('clickhouse');
    expect(ds?.jsonData.protocol).toBe('http');
    expect(ds?.jsonData.defaultDatabase).toBe(DEFAULTS.database);
    const dashboard = JSON.parse(
      readFileSync(new URL('deploy/grafana/dashboards/harness-meter.json', root), 'utf8'),
    ) as { panels: { type: string; datasource?: { uid: string } }[] };
    for (const p of dashboard.panels.filter((x) => x.type !== 'row'))
      expect(p.datasource?.uid).toBe(ds?.uid);
  });

  it('mounts the provisioning and the dashboards folder where the provider reads it', () => {
    const volumes = grafana.volumes ?? [];
    expect(volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const path = providers.providers[0]?.options.path;
    expect(volumes).toContain(`./deploy/grafana/dashboards:${path ?? ''}:ro`);
  });

  it('scrapes /metrics of the ingest and enrich services on their HTTP port', () => {
    const prom = read('deploy/prometheus.yml') as {
      scrape_configs: {
        metrics_path: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; port: number }[];
      }[];
    };
    const port = String(compose.services['harness-meter']?.environment?.HM_PORT);
    const targets = prom.scrape_configs.flatMap((c) => [
      ...(c.static_configs ?? []).flatMap((s) => s.targets),
      ...(c.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${String(d.port)}`)),
    ]);
    expect(targets.sort()).toEqual([`harness-meter-enrich:${port}`, `harness-meter:${port}`]);
    for (const c of prom.scrape_configs) expect(c.metrics_path).toBe('/metrics');
    expect(compose.services.prometheus?.volumes).toContain(
      './deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
  });
});
