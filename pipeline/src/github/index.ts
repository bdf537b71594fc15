export {
  webhookFacts,
  restFacts,
  sessionTrailer,
  repoKey,
  SESSION_TRAILER,
  WEBHOOK_EVENTS,
} from './events.js';
export type { PrFacts, ImportOptions } from './events.js';
export { githubWebhookHandler, verifySignature, signBody } from './webhook.js';
export type { PrFactsStore } from './webhook.js';
export { readPrsFile, readGitHistory } from './import.js';
export { githubWebhookRoute } from './route.js';
export { prFactsRoute, parsePrFacts } from './facts-route.js';
