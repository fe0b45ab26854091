// mlcycle's custom search attributes: defined once, set by workflows, registered at start-up.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const MODEL_NAME = defineSearchAttributeKey('MlcycleModel', SearchAttributeType.KEYWORD);
export const MODEL_VERSION = defineSearchAttributeKey('MlcycleVersion', SearchAttributeType.INT);
export const STAGE = defineSearchAttributeKey('MlcycleStage', SearchAttributeType.KEYWORD);
export const DATASET = defineSearchAttributeKey('MlcycleDataset', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [MODEL_NAME, MODEL_VERSION, STAGE, DATASET] as const;
