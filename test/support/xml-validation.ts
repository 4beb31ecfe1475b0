import { XMLParser } from 'fast-xml-parser';
import { readFileSync } from 'fs';
import { join } from 'path';
import { validateXML } from 'xmllint-wasm';

const ROOT = join(__dirname, '../..');
const CAP_XSD = readFileSync(join(ROOT, 'config/data/cap/CAP-v1.2.xsd'), 'utf8');
const ATOM_RNG = readFileSync(join(ROOT, 'test/support/atom/atom.rng'), 'utf8');

export interface Validation {
  valid: boolean;
  errors: string[];
}

/** Validates a CAP document against the OASIS CAP 1.2 schema (libxml2's xmllint, compiled to WebAssembly). */
export async function validateCap(xml: string, fileName = 'message.xml'): Promise<Validation> {
  const result = await validateXML({
    xml: [{ fileName, contents: xml }],
    schema: [{ fileName: 'CAP-v1.2.xsd', contents: CAP_XSD }],
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  isArray: (name) =>
    ['entry', 'link', 'author', 'category', 'info', 'area', 'resource', 'parameter'].includes(name),
});

export function parseXml(xml: string): any {
  return parser.parse(xml);
}

/**
 * Validates an Atom document against RFC 4287: the grammar (test/support/atom/atom.rng, RELAX NG) and
 * the rules a grammar cannot express (§4.1.1: an author on the feed or on every entry; §4.1.1: SHOULD
 * have a rel=self link; §4.1.2: an entry without content has a rel=alternate link, and no two alternate
 * links share type and hreflang; entry ids are unique).
 */
export async function validateAtom(xml: string): Promise<Validation> {
  const result = await validateXML({
    xml: [{ fileName: 'feed.atom', contents: xml }],
    schema: [{ fileName: 'atom.rng', contents: ATOM_RNG }],
    extension: 'relaxng',
  });
  const errors = result.errors.map((e) => e.rawMessage);
  if (result.valid) {
    const feed = parseXml(xml).feed;
    const entries: any[] = feed.entry ?? [];
    const links = (l: any[] | undefined) => l ?? [];
    if (!feed.author?.length && entries.some((e) => !e.author?.length)) {
      errors.push('feed has no author and an entry has none either (RFC 4287 §4.1.1)');
    }
    if (!links(feed.link).some((l) => l['@_rel'] === 'self')) errors.push('feed has no rel="self" link');
    const ids = entries.map((e) => String(e.id));
    if (new Set(ids).size !== ids.length) errors.push(`entry ids are not unique: ${ids.join(', ')}`);
    for (const e of entries) {
      const alternates = links(e.link).filter((l) => (l['@_rel'] ?? 'alternate') === 'alternate');
      if (e.content === undefined && alternates.length === 0) {
        errors.push(`entry ${e.id} has neither content nor a rel="alternate" link (RFC 4287 §4.1.2)`);
      }
      const keys = alternates.map((l) => `${l['@_type'] ?? ''}|${l['@_hreflang'] ?? ''}`);
      if (new Set(keys).size !== keys.length)
        errors.push(`entry ${e.id} repeats an alternate link type/hreflang`);
    }
  }
  return { valid: errors.length === 0 && result.valid, errors };
}
