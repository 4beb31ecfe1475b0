import { Sandbox, runSandbox } from '../../sandbox-kit/src/sandbox.server';
import { createPartnerSandbox } from './partner.sandbox';

void runSandbox(createPartnerSandbox(Sandbox.loadCredentials()), 4300).catch((err: Error) => {
  process.stderr.write(`partner-sandbox: failed to start: ${err.message}\n`);
  process.exit(1);
});
