export * from './admin-server.js'
export * from './admin-http.js'
export * from './health.js'
export * from './listen-address.js'
