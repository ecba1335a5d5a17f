// The weather agent on AI SDK 7, traced as its docs say: `registerTelemetry(new OpenTelemetry())`
// from `@ai-sdk/otel` (OTel GenAI conventions), spans exported by NodeSDK's OTLP exporter (proto
// or JSON, from `--exporter`) to the endpoint in OTEL_EXPORTER_OTLP_ENDPOINT.
//
// One run per process (`--api`, `--mode`); see common.mjs (the same file as ../aisdk6's).
import { anthropic } from "@ai-sdk/anthropic";
import { openai } from "@ai-sdk/openai";
import { OpenTelemetry } from "@ai-sdk/otel";
import { generateText, registerTelemetry, stepCountIs, streamText } from "ai";

import { parseArgs, runOnce, tools, SYSTEM, QUESTION, FUNCTION_ID } from "./common.mjs";

const MODELS = {
  responses: () => openai("gpt-4o-mini"),
  chat: () => openai.chat("gpt-4o-mini"),
  anthropic: () => anthropic("claude-haiku-4-5"),
};

async function agent(api, mode) {
  const options = {
    model: MODELS[api](),
    system: SYSTEM,
    prompt: QUESTION,
    tools: tools(),
    stopWhen: stepCountIs(6),
    telemetry: { functionId: FUNCTION_ID },
  };
  if (mode === "generate") {
    return (await generateText(options)).text;
  }
  const result = streamText(options);
  let text = "";
  for await (const piece of result.textStream) {
    text += piece;
  }
  return text;
}

registerTelemetry(new OpenTelemetry());
await runOnce(parseArgs(), agent);
