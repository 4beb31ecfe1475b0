import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
});

/**
 * A UTF-8 XML document with one root element. Keys are element names in the order given (the order a
 * schema's sequence needs), `@_name` keys attributes, arrays repeat an element; text is escaped.
 */
export function xmlDocument(rootName: string, root: Record<string, unknown>): string {
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, [rootName]: root });
}
