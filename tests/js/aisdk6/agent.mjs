// The weather agent on AI SDK 6, traced as its docs say: `experimental_telemetry: { isEnabled,
// functionId }` on each call, spans exported by NodeSDK's OTLP exporter (proto or JSON, from
// `--exporter`) to the endpoint in OTEL_EXPORTER_OTLP_ENDPOINT.
//
// One run per process (`--api`, `--mode`); see common.mjs for the tools' log and the report.
import { anthropic } from "@ai-sdk/anthropic";
import { openai } from "@ai-sdk/openai";
import { generateText, stepCountIs, streamText } from "ai";

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
    experimental_telemetry: { isEnabled: true, functionId: FUNCTION_ID },
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

await runOnce(parseArgs(), agent);
