//! Atlassian Document Format checks for the Jira simulator: schema validation against
//! `@atlaskit/adf-schema` (`json-schema/v1/full.json`, JSON Schema draft-04 via ajv-draft-04) and a
//! plain-text rendering used for Jira's text-length limits and changelog strings.

import { createRequire } from 'node:module';
import Ajv04 from 'ajv-draft-04';

const require = createRequire(import.meta.url);
let compiled = null;

function validator() {
  if (!compiled) {
    const schema = require('@atlaskit/adf-schema/json-schema/v1/full.json');
    const ajv = new Ajv04({ allErrors: false, strict: false });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/**
 * Validate an ADF document (`{ type: 'doc', version: 1, content: [...] }`).
 * @returns {{ valid: boolean, errors: Array<{ path: string, message: string }> }}
 */
export function validateAdf(doc) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { valid: false, errors: [{ path: '', message: 'an ADF document must be a JSON object' }] };
  }
  const v = validator();
  if (v(doc)) return { valid: true, errors: [] };
  const errors = (v.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid' }));
  return { valid: false, errors };
}

/** The text content of an ADF document (paragraphs separated by newlines), as Jira counts it. */
export function adfToText(doc) {
  const out = [];
  const walk = (node) => {
    if (!node || typeof node !== 'object') return;
    if (node.type === 'text' && typeof node.text === 'string') out.push(node.text);
    else if (node.type === 'hardBreak') out.push('\n');
    else if (node.type === 'mention') out.push(node.attrs?.text ?? '');
    else if (node.type === 'emoji') out.push(node.attrs?.text ?? node.attrs?.shortName ?? '');
    if (Array.isArray(node.content)) {
      node.content.forEach((child, i) => {
        walk(child);
        const block = child && typeof child === 'object' && child.type !== 'text' && child.type !== 'hardBreak'
          && !['mention', 'emoji', 'inlineCard', 'status', 'date'].includes(child.type);
        if (block && i < node.content.length - 1) out.push('\n');
      });
    }
  };
  walk(doc);
  return out.join('');
}

/** A one-paragraph ADF document holding `text` (lines become hard breaks). */
export function textToAdf(text) {
  const content = [];
  String(text).split('\n').forEach((line, i) => {
    if (i > 0) content.push({ type: 'hardBreak' });
    if (line) content.push({ type: 'text', text: line });
  });
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content }] };
}
