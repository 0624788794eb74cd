// Preloaded by scripts/test-lts.mjs (NODE_OPTIONS=--require, so in every thread and child process):
// loads better-sqlite3's native addon from AMTP_LTS_SQLITE_ADDON — a build for the LTS Node's ABI —
// instead of the project's copy, which was built for the Node that installed node_modules.
const addon = process.env.AMTP_LTS_SQLITE_ADDON;
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  return dlopen.call(this, module, addon && filename.endsWith('better_sqlite3.node') ? addon : filename, ...rest);
};
