/** The isomorphic crypto module (Node and browser): all primitives from the audited @noble libraries. */
export * from './encoding.js';
export * from './jcs.js';
export * from './sign.js';
export * from './seal.js';
export * from './hmac.js';
export * from './rotation.js';
export * from './receipt.js';
