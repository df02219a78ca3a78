export { AuthMiddleware, type AuthOptions, type Authenticate } from './auth.js'
export {
  assertApplication,
  defineMiddleware,
  scopeMiddleware,
  withScope,
  type Middleware,
  type MiddlewareHandler,
  type ScopeAdditions,
} from './base-middleware.js'
export {
  bearerToken,
  bearerTokenAuth,
  type BearerTokenAuthOptions,
  type BearerTokenOptions,
} from './bearer-token-auth.js'
export { MIN_SECRET_LENGTH, signCookieValue, unsignCookieValue } from './cookie-signing.js'
export { CookieMiddleware, deleteCookie, parseCookieHeader, setCookie, type CookieOptions } from './cookies.js'
export { AllowedHostsOriginValidator, OriginValidator } from './origin-validator.js'
export { signedCookieAuth, type SignedCookieAuthOptions } from './signed-cookie-auth.js'
export { websocketDenier } from './websocket-denier.js'
