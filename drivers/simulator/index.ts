export * from './config.js'
export * from './simulator-source.js'
