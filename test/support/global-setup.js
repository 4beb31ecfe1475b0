// Makes sure the infrastructure the integration tests use is up (Kafka is started if not running)
// and that the services were compiled (they run as real processes from dist/).
const { execFileSync } = require('child_process');
const { existsSync } = require('fs');
const { join } = require('path');

module.exports = async () => {
  const root = join(__dirname, '../..');
  execFileSync('bash', [join(root, 'infra/services.sh'), 'start'], { stdio: 'inherit' });
  if (!existsSync(join(root, 'dist/apps/intake/src/main.js'))) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
};
