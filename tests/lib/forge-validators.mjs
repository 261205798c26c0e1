// Atlassian's own validators, run offline as libraries: @forge/manifest (FULL, PRODUCT_TRIGGER,
// DEPRECATED_EGRESS_PERMISSIONS) and every @forge/lint client-side linter except PermissionLinter
// (it downloads Atlassian's swagger files at run time).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ProcessorBuilder, ValidationTypes } = require('@forge/manifest');
const lintLib = require('@forge/lint');

const VALIDATIONS = ['FULL', 'PRODUCT_TRIGGER', 'DEPRECATED_EGRESS_PERMISSIONS'];

/** Runs the manifest processors on `manifestPath`; returns [{ validation, level, message, line }]. */
export async function validateManifest(manifestPath) {
  const problems = [];
  for (const v of VALIDATIONS) {
    const processor = ProcessorBuilder.instance()
      .withValidation(ValidationTypes[v])
      .withOptions({ deprecatedRuntimes: [] })
      .build();
    const result = await processor.process(manifestPath);
    for (const e of result.errors ?? []) problems.push({ validation: v, level: e.level, message: e.message, line: e.line });
  }
  return problems;
}

/**
 * The CLI's real StatsigReader with the network lookups answering "unknown", so every gate and
 * dynamic config takes the default the CLI itself uses when Statsig cannot be reached.
 */
const { StatsigReader } = require('@forge/cli-shared');
class OfflineStatsig extends StatsigReader {
  async checkGate() { return undefined; }
  async getDynamicConfig() { return undefined; }
}
const statsigOffline = new OfflineStatsig();

/**
 * Runs the client-side linters on `files` with the manifest at `cwd` (process.cwd() must be the
 * app root, as for `forge lint`). Returns [{ file, level, message, reference, line }].
 */
export async function lintApp(files, manifestObject) {
  const logger = { info() {}, warn() {}, debug() {}, error() {}, trace() {} };
  const all = await lintLib.getClientSideLintersOnly(manifestObject, 'development', logger, statsigOffline);
  const linters = all.filter((l) => l.constructor.name !== 'PermissionLinter');
  const results = await lintLib.lint(files, manifestObject, 'development', logger, statsigOffline, {
    linter: { mode: 'client-side' },
    linters,
  });
  const problems = [];
  for (const r of results) {
    for (const e of r.errors) problems.push({ file: r.file, level: 'error', ...e });
    for (const w of r.warnings) problems.push({ file: r.file, level: 'warning', ...w });
  }
  return { problems, linterNames: linters.map((l) => l.constructor.name) };
}
