// Data contracts: the typed, versioned promise a dataset's rows must keep, and its parser.
import { Type, type Static } from 'typebox';
import Value from 'typebox/value';
import { ValidationError } from '../errors.js';
import { COLUMN_TYPES } from './types.js';

/** How a check is enforced: `error` quarantines violating rows and fails the run above `maxFraction`; `warn` keeps them and reports. */
const policy = {
  severity: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('warn')], { description: 'Default error.' })),
  maxFraction: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, description: 'Share of rows read that may violate the check before it is breached; default 0.' }),
  ),
};
const Policy = Type.Object(policy, { additionalProperties: false });

const ColumnContract = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: Type.Union(COLUMN_TYPES.map((t) => Type.Literal(t))),
    description: Type.Optional(Type.String()),
    /** Values that cannot be read as `type` (text in a numeric column, an unparseable date). */
    typeCheck: Type.Optional(Policy),
    /** Default true: a missing column is schema drift that fails the run. */
    required: Type.Optional(Type.Boolean()),
    notNull: Type.Optional(Type.Union([Type.Boolean(), Policy])),
    range: Type.Optional(Type.Object({ min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()), ...policy }, { additionalProperties: false })),
    allowed: Type.Optional(Type.Object({ values: Type.Array(Type.String(), { minItems: 1 }), ...policy }, { additionalProperties: false })),
    pattern: Type.Optional(Type.Object({ regex: Type.String({ minLength: 1 }), ...policy }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const DataContractSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    columns: Type.Array(ColumnContract, { minItems: 1 }),
    /** Source columns the contract does not name: kept and reported (`warn`, default), kept silently (`allow`) or fail the run (`error`). */
    extraColumns: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('warn'), Type.Literal('error')])),
    /** Column keys that must be unique after dedup; later repeats are violations. */
    unique: Type.Optional(Type.Array(Type.Object({ columns: Type.Array(Type.String(), { minItems: 1 }), ...policy }, { additionalProperties: false }))),
    /** The column holding each row's event time (a timestamp column); used by freshness and dedup. */
    eventTime: Type.Optional(Type.String()),
    /** The newest event time must be at most this old when the run reads it. */
    freshness: Type.Optional(
      Type.Object({ maxAgeSeconds: Type.Number({ exclusiveMinimum: 0 }), severity: policy.severity }, { additionalProperties: false }),
    ),
    /** Expected rows written (after quarantine and dedup). */
    rowCount: Type.Optional(
      Type.Object({ min: Type.Optional(Type.Integer({ minimum: 0 })), max: Type.Optional(Type.Integer({ minimum: 0 })), severity: policy.severity }, { additionalProperties: false }),
    ),
    dedup: Type.Optional(
      Type.Object(
        {
          /** Drop rows identical in every column to an earlier one. */
          exact: Type.Optional(Type.Boolean()),
          /** Keep one row per key: the latest by `eventTime` (ties: the later row in the source). */
          key: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type DataContract = Static<typeof DataContractSchema>;
export type ColumnContract = DataContract['columns'][number];
export type CheckPolicy = Static<typeof Policy>;

/**
 * Parses and checks a contract: structure, then the things a schema cannot say (regexes compile,
 * min <= max, every column named once, keys and event time name declared columns). Throws a
 * ValidationError listing every problem with its JSON path.
 */
export function parseContract(input: unknown): DataContract {
  if (!Value.Check(DataContractSchema, input)) {
    const problems = [...Value.Errors(DataContractSchema, input)]
      .filter((e) => e.keyword !== 'boolean' && e.keyword !== 'anyOf')
      .slice(0, 10)
      .map((e) => `${e.instancePath || '/'}: ${e.message}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''}`);
    throw new ValidationError(`The data contract does not parse: ${[...new Set(problems)].join('; ')}.`);
  }
  const contract = input as DataContract;
  const problems: string[] = [];
  const names = new Set<string>();
  contract.columns.forEach((c, i) => {
    if (names.has(c.name)) problems.push(`/columns/${i}: column ${JSON.stringify(c.name)} is declared twice`);
    names.add(c.name);
    if (c.range && c.range.min !== undefined && c.range.max !== undefined && c.range.min > c.range.max) {
      problems.push(`/columns/${i}/range: min ${c.range.min} is above max ${c.range.max}`);
    }
    if (c.range && c.type !== 'float64' && c.type !== 'timestamp') problems.push(`/columns/${i}/range: ranges apply to float64 or timestamp columns, not ${c.type}`);
    if (c.pattern) {
      try {
        new RegExp(c.pattern.regex, 'u');
      } catch (err) {
        problems.push(`/columns/${i}/pattern: ${(err as Error).message}`);
      }
    }
  });
  const declared = (col: string, where: string) => {
    if (!names.has(col)) problems.push(`${where}: column ${JSON.stringify(col)} is not declared in columns`);
  };
  contract.unique?.forEach((u, i) => u.columns.forEach((c) => declared(c, `/unique/${i}`)));
  contract.dedup?.key?.forEach((c) => declared(c, '/dedup/key'));
  if (contract.eventTime !== undefined) {
    declared(contract.eventTime, '/eventTime');
    const col = contract.columns.find((c) => c.name === contract.eventTime);
    if (col && col.type !== 'timestamp') problems.push(`/eventTime: column ${JSON.stringify(col.name)} must be a timestamp column, not ${col.type}`);
  }
  if (contract.freshness && contract.eventTime === undefined) problems.push('/freshness: needs eventTime to name the event-time column');
  if (contract.rowCount?.min !== undefined && contract.rowCount.max !== undefined && contract.rowCount.min > contract.rowCount.max) {
    problems.push(`/rowCount: min ${contract.rowCount.min} is above max ${contract.rowCount.max}`);
  }
  if (problems.length > 0) throw new ValidationError(`The data contract is inconsistent: ${problems.join('; ')}.`);
  return contract;
}

/** The resolved enforcement of a policy (defaults: error, 0). */
export function resolvePolicy(p: CheckPolicy | boolean | undefined): { severity: 'error' | 'warn'; maxFraction: number } {
  if (typeof p !== 'object') return { severity: 'error', maxFraction: 0 };
  return { severity: p.severity ?? 'error', maxFraction: p.maxFraction ?? 0 };
}
