import { capDateTime } from './cap-datetime';
import { xmlDocument } from './xml-document';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

export type CapMsgType = 'Alert' | 'Update' | 'Cancel';

export interface CapReference {
  sender: string;
  identifier: string;
  sent: Date;
}

export interface CapValue {
  valueName: string;
  value: string;
}

export interface CapResource {
  resourceDesc: string;
  mimeType: string;
  uri: string;
}

export interface CapArea {
  areaDesc: string;
  /** `lat,lon radius-km` (WGS 84). */
  circles: string[];
  geocodes: CapValue[];
}

export interface CapInfo {
  language: string;
  categories: string[];
  event: string;
  responseTypes: string[];
  urgency: 'Immediate' | 'Expected' | 'Future' | 'Past' | 'Unknown';
  severity: 'Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown';
  certainty: 'Observed' | 'Likely' | 'Possible' | 'Unlikely' | 'Unknown';
  expires: Date;
  senderName: string;
  headline: string;
  description: string;
  instruction: string;
  web: string;
  contact: string;
  parameters: CapValue[];
  resources: CapResource[];
  areas: CapArea[];
}

export interface CapMessage {
  identifier: string;
  sender: string;
  sent: Date;
  status: 'Actual' | 'Exercise' | 'System' | 'Test' | 'Draft';
  msgType: CapMsgType;
  scope: 'Public';
  note?: string;
  /** Earlier messages this one follows up (all of the alert's, oldest first). */
  references: CapReference[];
  /** Groups every message of one alert (its folio). */
  incidents?: string;
  info: CapInfo[];
}

/** `sender,identifier,sent` entries separated by spaces (CAP 1.2 §3.2.1). */
export function capReferences(refs: CapReference[]): string {
  return refs.map((r) => `${r.sender},${r.identifier},${capDateTime(r.sent)}`).join(' ');
}

/**
 * The CAP 1.2 document of a message, elements in the order the OASIS schema's sequences require.
 * Text is escaped by the XML builder. Optional elements without a value are left out.
 */
export function renderCapXml(m: CapMessage): string {
  const alert: Record<string, unknown> = {
    '@_xmlns': CAP_NAMESPACE,
    identifier: m.identifier,
    sender: m.sender,
    sent: capDateTime(m.sent),
    status: m.status,
    msgType: m.msgType,
    scope: m.scope,
  };
  if (m.note) alert.note = m.note;
  if (m.references.length) alert.references = capReferences(m.references);
  if (m.incidents) alert.incidents = m.incidents;
  if (m.info.length) alert.info = m.info.map(renderInfo);
  return xmlDocument('alert', alert);
}

function renderInfo(i: CapInfo): Record<string, unknown> {
  const info: Record<string, unknown> = {
    language: i.language,
    category: i.categories,
    event: i.event,
  };
  if (i.responseTypes.length) info.responseType = i.responseTypes;
  Object.assign(info, {
    urgency: i.urgency,
    severity: i.severity,
    certainty: i.certainty,
    expires: capDateTime(i.expires),
    senderName: i.senderName,
    headline: i.headline,
    description: i.description,
    instruction: i.instruction,
    web: i.web,
    contact: i.contact,
  });
  if (i.parameters.length)
    info.parameter = i.parameters.map((p) => ({ valueName: p.valueName, value: p.value }));
  if (i.resources.length) {
    info.resource = i.resources.map((r) => ({
      resourceDesc: r.resourceDesc,
      mimeType: r.mimeType,
      uri: r.uri,
    }));
  }
  if (i.areas.length) {
    info.area = i.areas.map((a) => {
      const area: Record<string, unknown> = { areaDesc: a.areaDesc };
      if (a.circles.length) area.circle = a.circles;
      if (a.geocodes.length)
        area.geocode = a.geocodes.map((g) => ({ valueName: g.valueName, value: g.value }));
      return area;
    });
  }
  return info;
}
