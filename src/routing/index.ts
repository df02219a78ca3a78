export { ChannelNameRouter } from './channel-router.js'
export { ProtocolTypeRouter, type ProtocolMapping } from './protocol-router.js'
export { URLRouter, route, type Route, type RouteEntry, type RouteKwargs, type RouteOptions } from './url-router.js'
