export * from './topics.js';
export * from './schemas.js';
export * from './validate.js';
export * from './catalog.js';
export * from './profile.js';
export * from './config.js';
export * from './logger.js';
export * from './tls.js';
