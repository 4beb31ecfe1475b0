#!/usr/bin/env node
// After a failed run: the warnings and errors (pino level >= 40) that the services of each failing test
// file logged, last lines first trimmed, so a CI failure can be diagnosed from the CI output alone.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const report = JSON.parse(fs.readFileSync(path.join(root, 'test-results', 'jest.json'), 'utf8'));
const logDir = path.join(root, 'test-results', 'services');
const failed = report.testResults.filter((r) => r.status !== 'passed').map((r) => path.basename(r.name));
const PER_FILE = 40;

for (const file of failed) {
  const stem = file.replace(/\.(test|spec)\.ts$/, '');
  const logs = fs.existsSync(logDir) ? fs.readdirSync(logDir).filter((f) => f.startsWith(`${stem}-`)) : [];
  for (const log of logs.sort()) {
    const lines = fs
      .readFileSync(path.join(logDir, log), 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          const j = JSON.parse(l);
          return j.level >= 40
            ? [`${j.time} ${j.level >= 50 ? 'ERROR' : 'WARN '} ${j.msg} ${j.err ?? j.error ?? ''}`]
            : [];
        } catch {
          return l.trim() && !l.startsWith('{') ? [l.slice(0, 300)] : [];
        }
      });
    if (!lines.length) continue;
    console.log(`--- ${log}: ${lines.length} warnings/errors, last ${Math.min(PER_FILE, lines.length)}`);
    for (const l of lines.slice(-PER_FILE)) console.log(`  ${String(l).slice(0, 300)}`);
  }
}
