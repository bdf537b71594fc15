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
export { walkGitLines } from './git-walk.js';
export type { GitWalkOptions, GitWalkResult } from './git-walk.js';
export { storeGitLines, storeIncidents, gitLinesRoute } from './git-import.js';
export type { GitLinesBatch } from './git-import.js';
export { messageReferences, readIncidentsFile, incidentDefects } from './defects.js';
export type { DefectReference, IncidentRecord } from './defects.js';
