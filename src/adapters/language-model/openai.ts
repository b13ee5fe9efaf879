import type { GenerationOutcome, LanguageModel, Usage } from '../../ports/language-model.js';
import { toChatMessages } from './chat-prompt.js';
import { createOpenAiCaller, toProviderText, type CallSettings } from './openai-transport.js';
import { parseVariants } from './parse-variants.js';

export interface OpenAiLanguageModelOptions extends CallSettings {
  model: string;
  /** Default 0.7. */
  temperature?: number;
  pricePer1kInputUsd: number;
  pricePer1kOutputUsd: number;
}

type Failure = Extract<GenerationOutcome, { ok: false }>;

const failure = (reason: string, retryable: boolean, usage: Usage | null = null): Failure => ({
  ok: false,
  reason,
  retryable,
  usage,
});

const toUsage = (
  usage: { prompt_tokens: number; completion_tokens: number } | undefined,
  options: OpenAiLanguageModelOptions,
): Usage => {
  const promptTokens = usage?.prompt_tokens ?? 0;
  const completionTokens = usage?.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    costUsd:
      (promptTokens * options.pricePer1kInputUsd + completionTokens * options.pricePer1kOutputUsd) /
      1000,
  };
};

/**
 * Marketing copy from an OpenAI-compatible chat-completions API in JSON mode. Retries 408,
 * 429 and 5xx answers, connection failures and timeouts up to `maxRetries` times, waiting as
 * long as Retry-After says or else with jittered exponential backoff; never throws for what
 * the server or the network did, and stops waiting as soon as `signal` aborts.
 */
export const createOpenAiLanguageModel = (options: OpenAiLanguageModelOptions): LanguageModel => {
  const temperature = options.temperature ?? 0.7;
  const caller = createOpenAiCaller(options);
  return {
    name: 'openai',
    cacheKey: JSON.stringify(['openai', caller.baseUrl, options.model, temperature]),
    async generate(request, signal) {
      const result = await caller.call(
        (client, call) =>
          client.chat.completions.create(
            {
              model: options.model,
              temperature,
              response_format: { type: 'json_object' },
              messages: toChatMessages(request),
            },
            call,
          ),
        signal,
      );
      if (!result.ok) return { ...result, usage: null };
      const completion = result.value;
      // A proxy or a wrong base URL can answer 200 with a page or an error object: the SDK
      // hands that over as it came (text, or JSON of another shape).
      if (
        typeof completion !== 'object' ||
        (completion as unknown) === null ||
        !Array.isArray((completion as { choices?: unknown }).choices)
      )
        return failure('malformed reply: not a chat completion', false);
      const usage = toUsage(completion.usage, options);
      const choice = completion.choices[0] as
        (typeof completion.choices)[number] | null | undefined;
      if (typeof choice !== 'object' || choice === null)
        return failure('malformed reply: no choices', false, usage);
      if (typeof (choice.message as unknown) !== 'object' || (choice.message as unknown) === null)
        return failure('malformed reply: a choice without a message', false, usage);
      if (choice.finish_reason === 'length')
        return failure('malformed reply: cut off at the token limit', false, usage);
      const content = choice.message.content;
      if (content === null || content === '')
        return failure(
          `malformed reply: no content${choice.message.refusal ? ` (refused: ${toProviderText(choice.message.refusal, options.apiKey)})` : ''}`,
          false,
          usage,
        );
      const variants = parseVariants(content, request.count);
      if (!variants.ok)
        return failure(
          `malformed reply: ${toProviderText(variants.error, options.apiKey)}`,
          false,
          usage,
        );
      // A compatible server or proxy may leave the model out: the one asked for wrote it.
      const model =
        typeof completion.model === 'string' && completion.model !== ''
          ? completion.model
          : options.model;
      return { ok: true, variants: variants.value, usage, model };
    },
  };
};
