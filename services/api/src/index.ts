export { createApp } from './app.js';
export type { AppDeps } from './app.js';
export { loadConfig } from './config.js';
export type { ApiConfig } from './config.js';
export { MikroOrmProductStore } from './adapters/product-store.js';
export { buildOpenApiDocument } from './openapi.js';
export * from './domain/products.js';
export * from './domain/ports.js';
export * from './domain/product-input.js';
