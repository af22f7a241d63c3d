// better-sqlite3 compiles from source on machines with no prebuilt binary in reach, and
// node-gyp would then download Node headers. Point it at the headers of the running Node
// instead (pnpm 12 ignores `nodedir` in .npmrc, so it is passed as an env var here).
const fs = require('node:fs');
const path = require('node:path');

function localNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}

module.exports = {
  hooks: {
    updateConfig(config) {
      const nodedir = localNodeDir();
      if (nodedir) config.extraEnv = { ...(config.extraEnv ?? {}), npm_config_nodedir: nodedir };
      return config;
    },
  },
};
