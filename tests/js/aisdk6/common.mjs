// What both majors' agents share (kept as one file per project: Node resolves imports from the
// file's own folder, so each project has its own copy; tests/frameworks/test_aisdk.py checks
// that the copies are the same).
//
// - tools(): get_weather and c_to_f, which append each execution (name, arguments, result) to
//   the JSON-lines file AGENT_TOOL_LOG: the ground truth of the tool calls.
// - runOnce(): NodeSDK started as a user's agent starts it, one run, flushed, one JSON line.
import { appendFileSync } from "node:fs";

import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace";
import { tool } from "ai";
import { z } from "zod";

export const SYSTEM = "You are a terse weather bot. Use the tools.";
export const QUESTION = "Weather in Paris and Lyon, with Paris in Fahrenheit?";
export const FUNCTION_ID = "weather_agent";

function logTool(name, args, result) {
  const line = JSON.stringify({ name, arguments: args, result });
  appendFileSync(process.env.AGENT_TOOL_LOG, line + "\n");
  return result;
}

export function tools() {
  return {
    get_weather: tool({
      description: "Current weather for a city.",
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        const forecast = { city, temp_c: city === "Paris" ? 21 : 18, sky: "sunny" };
        return logTool("get_weather", { city }, JSON.stringify(forecast));
      },
    }),
    c_to_f: tool({
      description: "Celsius to Fahrenheit.",
      inputSchema: z.object({ c: z.number() }),
      execute: async ({ c }) =>
        logTool("c_to_f", { c }, String(Math.round((c * 9) / 5 * 10 + 320) / 10)),
    }),
  };
}

/** `--exporter proto|json --api responses|chat|anthropic --mode generate|stream`. */
export function parseArgs() {
  const args = process.argv.slice(2);
  const value = (name, fallback) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : fallback;
  };
  return {
    exporter: value("exporter", "proto"),
    api: value("api", "chat"),
    mode: value("mode", "generate"),
  };
}

/** Counts ended spans per trace: the harness waits until agentreel holds them all. */
class Seen {
  constructor() {
    this.perTrace = {};
  }
  onStart() {}
  onEnd(span) {
    const id = span.spanContext().traceId;
    this.perTrace[id] = (this.perTrace[id] || 0) + 1;
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

/** The OTLP exporter named, which notes the result of every export it makes. */
function exporterOf(kind, results) {
  const exporter = kind === "json" ? new JsonExporter() : new ProtoExporter();
  const send = exporter.export.bind(exporter);
  exporter.export = (spans, done) =>
    send(spans, (result) => {
      results.push(result.code === 0 ? "ok" : String(result.error));
      done(result);
    });
  return exporter;
}

/**
 * Start tracing as a user's agent does (NodeSDK; endpoint and service from the OTEL_*
 * environment), run `agent(api, mode)` once, shut the SDK down (which flushes), and print
 * the report the harness reads: the answer, trace ids, spans ended per trace, exports.
 */
export async function runOnce({ exporter, api, mode }, agent) {
  const results = [];
  const seen = new Seen();
  const sdk = new NodeSDK({
    spanProcessors: [new BatchSpanProcessor({ exporter: exporterOf(exporter, results) }), seen],
    instrumentations: [],
  });
  sdk.start();
  const answer = await agent(api, mode);
  await sdk.shutdown();
  const spans = Object.values(seen.perTrace).reduce((a, b) => a + b, 0);
  const report = {
    answer,
    trace_ids: Object.keys(seen.perTrace),
    spans_per_trace: seen.perTrace,
    spans,
    exports: results,
    flushed: results.length > 0 && results.every((r) => r === "ok"),
  };
  process.stdout.write(JSON.stringify(report) + "\n");
}
