export * from './cloudevent-builder.js'
export * from './clock-status.js'
export * from './event-time.js'
