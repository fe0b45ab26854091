// Versioned data contracts per dataset name: registering the same contract again returns its version.
import { canonicalJson } from '../util/canonical-json.js';
import { createHash } from 'node:crypto';
import { NotFoundError } from '../errors.js';
import { withTransaction, type Db } from '../storage/db.js';
import { parseContract, type DataContract } from './contract.js';

export interface ContractVersion {
  datasetName: string;
  version: number;
  contract: DataContract;
  sha256: string;
  createdAt: string;
}

interface ContractRow {
  dataset_name: string;
  version: number;
  contract: DataContract;
  sha256: string;
  created_at: Date;
}

const fromRow = (r: ContractRow): ContractVersion => ({
  datasetName: r.dataset_name,
  version: r.version,
  contract: r.contract,
  sha256: r.sha256,
  createdAt: r.created_at.toISOString(),
});

/** Parses (ValidationError when it does not) and stores a contract; identical content returns the existing version. */
export async function registerContract(db: Db, datasetName: string, input: unknown): Promise<ContractVersion & { created: boolean }> {
  const contract = parseContract(input);
  const sha256 = createHash('sha256').update(canonicalJson(contract)).digest('hex');
  return withTransaction(db, async (client) => {
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`contract:${datasetName}`]);
    const existing = await client.query<ContractRow>('select * from data_contracts where dataset_name = $1 and sha256 = $2', [datasetName, sha256]);
    if (existing.rows[0]) return { ...fromRow(existing.rows[0]), created: false };
    const { rows } = await client.query<ContractRow>(
      `insert into data_contracts (dataset_name, version, contract, sha256)
       values ($1, (select coalesce(max(version), 0) + 1 from data_contracts where dataset_name = $1), $2, $3) returning *`,
      [datasetName, JSON.stringify(contract), sha256],
    );
    return { ...fromRow(rows[0]), created: true };
  });
}

/** A contract version, or the latest when `version` is omitted; undefined when the dataset has none. */
export async function findContract(db: Db, datasetName: string, version?: number): Promise<ContractVersion | undefined> {
  const { rows } = await db.query<ContractRow>(
    `select * from data_contracts where dataset_name = $1 and ($2::int is null or version = $2) order by version desc limit 1`,
    [datasetName, version ?? null],
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function getContract(db: Db, datasetName: string, version?: number): Promise<ContractVersion> {
  const found = await findContract(db, datasetName, version);
  if (!found) {
    throw new NotFoundError(
      version === undefined ? `Dataset ${JSON.stringify(datasetName)} has no data contract.` : `Dataset ${JSON.stringify(datasetName)} has no contract version ${version}.`,
    );
  }
  return found;
}

export async function listContracts(db: Db, datasetName: string): Promise<ContractVersion[]> {
  const { rows } = await db.query<ContractRow>('select * from data_contracts where dataset_name = $1 order by version desc', [datasetName]);
  return rows.map(fromRow);
}
