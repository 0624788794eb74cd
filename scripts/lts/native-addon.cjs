// Preloaded by scripts/test-lts.mjs (NODE_OPTIONS=--require, so in every thread and child process):
// loads better-sqlite3's native addon from LTS_SQLITE_ADDON — a build for the LTS Node's ABI — instead
// of the project's copy, built for the Node that installed node_modules. (Not named AMTP_*: the test
// helpers drop AMTP_* variables for the child processes they start.)
const addon = process.env.LTS_SQLITE_ADDON;
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  return dlopen.call(this, module, addon && filename.endsWith('better_sqlite3.node') ? addon : filename, ...rest);
};
