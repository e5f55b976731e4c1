export * from './gateway.js'
export * from './run.js'
export * from './demo.js'
