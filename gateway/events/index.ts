export * from './cloudevent-builder.js'
