// Registers mlcycle's search attributes on the namespace. Idempotent, safe to race, works on any cluster.
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { SearchAttributeType } from '@temporalio/common';
import { StartupError } from '../lib/errors.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

const { temporal } = proto;
const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const INDEXED: Record<SearchAttributeType, proto.temporal.api.enums.v1.IndexedValueType> = {
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

const ALREADY_EXISTS = 6; // gRPC status code

/** Adds whichever mlcycle search attributes the namespace lacks; returns the names it added. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = listed.customAttributes ?? {};
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in existing));
  if (missing.length === 0) return [];
  for (const key of SEARCH_ATTRIBUTES) {
    const have = existing[key.name];
    if (have !== undefined && have !== INDEXED[key.type]) {
      throw new StartupError(`Search attribute ${key.name} exists on namespace ${namespace} with another type; mlcycle needs ${key.type}. Remove or rename it.`);
    }
  }
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED[key.type]])),
    });
  } catch (err) {
    // Another process registered them first; that is the outcome we wanted.
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
  return missing.map((key) => key.name);
}
