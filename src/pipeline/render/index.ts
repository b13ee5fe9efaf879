// In: a decision, its template and the customer's profile. Out: the rendered message (subject,
// text, HTML, sender, footer and a signed unsubscribe link) that the guardrails judge.
export {
  createRenderer,
  type Renderer,
  type RenderInput,
  type RenderSettings,
} from './create-renderer.js';
export { defaultTemplates } from './default-templates.js';
export {
  describeUnsafeOutput,
  findUnsafeOutputs,
  type UnsafeOutput,
} from './find-unsafe-outputs.js';
export { channelsWithoutCode, refuseUnprintedCode } from './incentive-shown.js';
export { templateSchema, type Template } from './template.js';
