// Resolves the monorepo's @alerta-rosa/* imports inside the compiled dist/ tree at run time.
const path = require('path');
const tsconfigPaths = require('tsconfig-paths');
const dist = path.resolve(__dirname, '../../dist');
tsconfigPaths.register({
  baseUrl: dist,
  paths: {
    '@alerta-rosa/contracts': ['libs/contracts/src'],
    '@alerta-rosa/messaging': ['libs/messaging/src'],
    '@alerta-rosa/config': ['libs/config/src'],
    '@alerta-rosa/observability': ['libs/observability/src'],
    '@alerta-rosa/database': ['libs/database/src'],
    '@alerta-rosa/runtime': ['libs/runtime/src'],
    '@alerta-rosa/http': ['libs/http/src'],
    '@alerta-rosa/auth': ['libs/auth/src'],
  },
});
