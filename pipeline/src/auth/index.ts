export { bindIdentity, overrideMessage } from './bind.js';
export type { BoundIdentity, BindResult } from './bind.js';
export { createRequestGuard, AUTH_DEFAULTS } from './guard.js';
export type { AuthGuard, GuardOptions, KeySource } from './guard.js';
export { bearerToken, generateKey, parseKey, secretMatches } from './keys.js';
export { hostRefusal, isLoopbackBind, roleAllows, routeAccess, WEBHOOK_PATH } from './policy.js';
export type { RouteAccess } from './policy.js';
export { checkKeyRequest, createApiKey, keysRoutes, revokeKey } from './service.js';
export type { CreatedKey, KeyRequest } from './service.js';
